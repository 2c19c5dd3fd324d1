using Microsoft.Extensions.FileProviders;

namespace Keygate.Portal;

/// <summary>
/// The portal's stylesheet and script are embedded in the assembly, so the one deployable serves them
/// whatever its content root is (a container, a service folder, a test host).
/// </summary>
public static class PortalAssets
{
    public static void UsePortalAssets(this IApplicationBuilder app) => app.UseStaticFiles(new StaticFileOptions
    {
        FileProvider = new EmbeddedFileProvider(typeof(PortalAssets).Assembly, "Keygate.wwwroot"),
    });
}

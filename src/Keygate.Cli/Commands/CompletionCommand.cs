using System.CommandLine;

namespace Keygate.Cli.Commands;

/// <summary>
/// keygate completion bash|zsh|pwsh: prints a script that wires the shell to System.CommandLine's completion
/// ([suggest] directive), so completions need no extra tool. (dotnet-suggest works too.)
/// </summary>
public static class CompletionCommand
{
    private const string Bash = """
        # keygate completion for bash: eval "$(keygate completion bash)"
        _keygate_complete() {
          local IFS=$'\n'
          COMPREPLY=( $(keygate "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) )
        }
        complete -o default -F _keygate_complete keygate
        """;

    private const string Zsh = """
        # keygate completion for zsh: eval "$(keygate completion zsh)"
        _keygate_complete() {
          local -a completions
          completions=("${(@f)$(keygate "[suggest:${#BUFFER}]" "$BUFFER" 2>/dev/null)}")
          compadd -a completions
        }
        compdef _keygate_complete keygate
        """;

    private const string Pwsh = """
        # keygate completion for PowerShell: keygate completion pwsh | Out-String | Invoke-Expression
        Register-ArgumentCompleter -Native -CommandName keygate -ScriptBlock {
          param($wordToComplete, $commandAst, $cursorPosition)
          keygate "[suggest:$cursorPosition]" "$commandAst" | ForEach-Object {
            [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
          }
        }
        """;

    public static Command Create(Cli cli)
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh or pwsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "pwsh");
        var cmd = cli.Command("completion", "Print the shell completion script for bash, zsh or PowerShell.",
            "eval \"$(keygate completion bash)\"   # add to ~/.bashrc",
            "eval \"$(keygate completion zsh)\"    # add to ~/.zshrc, after compinit");
        cmd.Arguments.Add(shell);
        cmd.SetAction(pr =>
        {
            cli.Env.Out.WriteLine(pr.GetValue(shell) switch { "bash" => Bash, "zsh" => Zsh, _ => Pwsh });
            return ExitCodes.Success;
        });
        return cmd;
    }
}

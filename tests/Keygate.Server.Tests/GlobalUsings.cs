// The server's feature namespaces, for every test: tests drive all of them, and one list here keeps the test
// files free of a dozen using lines each.
global using Keygate.Accounts;
global using Keygate.Audit;
global using Keygate.Cluster;
global using Keygate.Data;
global using Keygate.Hosting;
global using Keygate.Kernel;
global using Keygate.Keys;
global using Keygate.LegacyApi;
global using Keygate.Metering;
global using Keygate.Ops;
global using Keygate.Organizations;
global using Keygate.Portal;
global using Keygate.ProviderApi;
global using Keygate.Sandbox;
global using Keygate.Secrets;
global using Keygate.Sessions;
global using Keygate.Webhooks;

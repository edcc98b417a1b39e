using System.CommandLine;
using PortSentinel.Cli.Commands;

namespace PortSentinel.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("PortSentinel: real-time port-scan detection and prevention for Linux.");
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(BansCommand.Create());
        root.Subcommands.Add(AllowlistCommand.Create());
        root.Subcommands.Add(UsersCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(NotifyCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(AnalyzeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}

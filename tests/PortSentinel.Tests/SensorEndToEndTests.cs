using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using PortSentinel.Decode;
using PortSentinel.Record.Sqlite;
using PortSentinel.Tests.Capture;

namespace PortSentinel.Tests;

/// <summary>A namespace fact that also needs fail2ban-regex (Debian's fail2ban).</summary>
public sealed class Fail2banFactAttribute : FactAttribute
{
    public Fail2banFactAttribute()
    {
        Skip = NamespacePair.Unavailable()
            ?? (File.Exists("/usr/bin/fail2ban-regex") && File.Exists("/etc/fail2ban/filter.d/common.conf") ? null : "needs fail2ban-regex (deploy/install-deps.sh --test installs fail2ban)");
    }
}

/// <summary>
/// <c>portsentinel run</c> as a real process inside the target namespace, with the nftables
/// backend, and real nmap from the scanner namespace.
/// </summary>
public sealed class SensorEndToEndTests : IDisposable
{
    private const int Port = 8080;

    // nmap's SYN, FIN, NULL, … scans never show the scanner is at its address, so by default it is
    // only held (Decide:HoldSeconds); the tests of what a ban does set the policy that bans it.
    private static readonly string[] _banUnverified = ["--set", "Decide:BanUnverified=true"];

    private readonly NamespacePair _pair = new();
    private readonly string _data = Path.Combine(Path.GetTempPath(), $"ps-sensor-{Guid.NewGuid():N}");
    private readonly IDisposable _server;

    public SensorEndToEndTests()
    {
        _server = NamespacePair.Serve(_pair.Target, Port);
    }

    [NamespaceFact]
    public void Sigint_stops_the_sensor_even_when_it_was_started_with_interrupts_ignored()
    {
        // As a script's "portsentinel run &" does: a shell without job control starts background
        // jobs with SIGINT and SIGQUIT ignored, and the sensor then ran on after SIGINT until SIGTERM.
        string[] ignoring = ["sh", "-c", "trap '' INT QUIT; exec \"$0\" \"$@\""];
        using var sensor = new SensorProcess(_pair.Target, _data, firewall: "dry-run", wrapper: ignoring, extra: ["--no-dashboard"]);
        sensor.WaitFor("RUNNING");

        Assert.True(sensor.Interrupt(TimeSpan.FromSeconds(10)), $"the sensor ran on after SIGINT:\n{sensor.Output}");
        Assert.Contains("STOPPING (bans stay in the firewall)", sensor.Output, StringComparison.Ordinal);
        Assert.Matches(@"STOPPED ps-target: \d+ received", sensor.Output);
    }

    [NamespaceFact]
    public void A_named_interface_that_is_not_there_at_start_is_waited_for_and_captured_when_it_comes()
    {
        _pair.Unlink();
        using var sensor = new SensorProcess(_pair.Target, _data);
        sensor.WaitFor("RUNNING");
        Assert.Contains("WARNING ps-target is not there: capturing on it as soon as it appears", sensor.Output);

        _pair.Link();
        sensor.WaitFor("CAPTURING on ps-target");
        Scan(sensor, $"HELD {NamespacePair.ScannerAddress}", "-sM", "-p", "1-200");
        Assert.Contains($"DETECTED {NamespacePair.ScannerAddress} kinds=tcp-maimon", sensor.Output);
        Assert.Equal(0, sensor.Terminate());
    }

    [NamespaceFact]
    public void A_scanner_is_blocked_in_the_kernel_during_its_scan_and_its_ban_comes_back_after_a_restart()
    {
        Assert.True(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));

        using (var sensor = new SensorProcess(_pair.Target, _data, extra: _banUnverified))
        {
            sensor.WaitFor("CAPTURING on ps-target");
            Assert.Contains("GUARD holds for 60s a source refused on more than 6 closed ports within 60s, at most 4096 a minute", sensor.Output);
            Scan(sensor, $"BANNED {NamespacePair.ScannerAddress} for 3600s offence=1 firewall=nftables", "-sS", "-p", "1-200");
            Assert.Contains($"DETECTED {NamespacePair.ScannerAddress} kinds=tcp-syn", sensor.Output);
            Assert.Contains(NamespacePair.ScannerAddress, HostsInSet());
            Assert.False(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
            Assert.Equal(0, sensor.Terminate());
            Assert.Matches(@"STOPPED ps-target: \d+ received, 0 dropped by the kernel", sensor.Output);
            Assert.Contains($"ENDED {NamespacePair.ScannerAddress} kinds=tcp-syn", sensor.Output);
        }
        using (SqliteStore record = SqliteStore.Open(_data))
        {
            Assert.Equal(1, record.DetectionCount()); // the scan still open at stop was recorded
        }
        // Stopping leaves the ban in place; a reboot would not: delete the table, as a reboot does.
        Assert.Contains(NamespacePair.ScannerAddress, HostsInSet());
        var (deleted, why) = NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), "nft", "delete", "table", "inet", "portsentinel");
        Assert.True(deleted == 0, why);

        using (var again = new SensorProcess(_pair.Target, _data))
        {
            again.WaitFor("RESTORED 1 bans into nftables");
            Assert.Contains(NamespacePair.ScannerAddress, HostsInSet());
            Assert.False(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
            Assert.Equal(0, again.Terminate());
        }
    }

    [NamespaceFact]
    public void A_scanner_that_showed_its_address_is_banned_and_one_that_may_be_forged_is_only_held()
    {
        var (added, why) = NamespacePair.Exec(_pair.Scanner, TimeSpan.FromSeconds(10), "ip", "addr", "add", "198.51.100.3/24", "dev", NamespacePair.ScannerDevice);
        Assert.True(added == 0, why);
        using var sensor = new SensorProcess(_pair.Target, _data);
        sensor.WaitFor("CAPTURING on ps-target");
        // 198.51.100.3 completes a handshake with the web server (its ACK carries the SYN-ACK's
        // sequence number plus one, which a forger never sees), then scans.
        NamespacePair.In(_pair.Scanner, () =>
        {
            using var client = new TcpClient(new IPEndPoint(IPAddress.Parse("198.51.100.3"), 0));
            client.Connect(IPAddress.Parse(NamespacePair.TargetAddress), Port);
            return 0;
        });
        Scan(sensor, "BANNED 198.51.100.3 for 3600s offence=1 firewall=nftables", "-sS", "-S", "198.51.100.3", "-e", NamespacePair.ScannerDevice, "-p", "1-100");
        Assert.Matches(@"DETECTED 198\.51\.100\.3 kinds=tcp-syn\S* severity=\w+ action=block .* verified=yes", sensor.Output);
        // The other address only ever sent bare SYNs and a SYN scan's RSTs: it may be forged.
        Scan(sensor, $"HELD {NamespacePair.ScannerAddress} for 600s firewall=nftables", "-sS", "-p", "1-100");
        Assert.Matches($@"DETECTED {Regex.Escape(NamespacePair.ScannerAddress)} kinds=tcp-syn\S* severity=\w+ action=hold .* verified=no: .*not verified at its address", sensor.Output);
        Assert.DoesNotContain($"BANNED {NamespacePair.ScannerAddress}", sensor.Output, StringComparison.Ordinal);
        string set = HostsInSet();
        Assert.Matches(@"198\.51\.100\.3 timeout 1h", set);
        Assert.Matches($@"{Regex.Escape(NamespacePair.ScannerAddress)} timeout 10m", set);
        Assert.Equal(0, sensor.Terminate());
        using SqliteStore record = SqliteStore.Open(_data);
        var bans = record.ActiveBans(DateTimeOffset.UtcNow).ToDictionary(b => b.Network.ToString(), b => b.Hold);
        Assert.Equal(new Dictionary<string, bool> { ["198.51.100.3"] = false, [NamespacePair.ScannerAddress] = true }, bans);
        Assert.Equal(0, record.PreviousBans(NetPrefix.Parse(NamespacePair.ScannerAddress)));
    }

    [NamespaceTheory]
    [InlineData("-sS", "tcp-syn")]
    [InlineData("-sT", "tcp-connect")]
    [InlineData("-sF", "tcp-fin")]
    [InlineData("-sX", "tcp-xmas")]
    [InlineData("-sN", "tcp-null")]
    [InlineData("-sM", "tcp-maimon")]
    [InlineData("-sA", "tcp-ack")]
    [InlineData("-sW", "tcp-ack")]
    [InlineData("-sU", "udp")]
    [InlineData("-sO", "ip-protocol")]
    [InlineData("-sY", "sctp-init")]
    public void Every_scan_type_is_detected_live_and_the_scanner_is_blocked(string scan, string kind)
    {
        // ICMP errors unthrottled in the target, so UDP, protocol and SCTP probes are answered at nmap's pace.
        var (set, why) = NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0");
        Assert.True(set == 0, why);
        Assert.True(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
        using var sensor = new SensorProcess(_pair.Target, _data);
        sensor.WaitFor("CAPTURING on ps-target");
        string[] ports = scan == "-sO" ? [] : ["-p", scan is "-sU" or "-sY" ? "1-100" : "1-200"];
        Scan(sensor, $"HELD {NamespacePair.ScannerAddress} for 600s", [scan, .. ports]);
        Assert.Matches($@"DETECTED {Regex.Escape(NamespacePair.ScannerAddress)} kinds=[a-z,-]*{Regex.Escape(kind)}\S* severity=\w+ action=hold .* verified=no", sensor.Output);
        Assert.Contains(NamespacePair.ScannerAddress, HostsInSet());
        Assert.False(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
        Assert.Equal(0, sensor.Terminate());
    }

    [NamespaceTheory]
    [InlineData("-PE", "icmp-sweep")]
    [InlineData("-PP", "icmp-sweep")]
    [InlineData("-PM", "icmp-sweep")]
    [InlineData("-PS", "tcp-ping-sweep")]
    [InlineData("-PA", "tcp-ack")]
    public void A_ping_sweep_is_detected_live(string ping, string kind)
    {
        // A network behind the target (192.0.2.0/24, routed through it) where five hosts are up
        // and the rest of the sweep meets silence, as on a real network.
        var (routed, why) = NamespacePair.Exec(_pair.Scanner, TimeSpan.FromSeconds(10), "ip", "route", "add", "192.0.2.0/24", "via", NamespacePair.TargetAddress);
        Assert.True(routed == 0, why);
        for (int host = 1; host <= 5; host++)
        {
            var (added, error) = NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), "ip", "addr", "add", $"192.0.2.{host}/32", "dev", "lo");
            Assert.True(added == 0, error);
        }
        using var sensor = new SensorProcess(_pair.Target, _data);
        sensor.WaitFor("CAPTURING on ps-target");
        Scan(sensor, null, "-sn", ping, "--disable-arp-ping", "192.0.2.1-30");
        sensor.WaitFor($"DETECTED {NamespacePair.ScannerAddress} kinds="); // silence is settled after Detection:OutcomeTimeoutMilliseconds
        Assert.Equal(0, sensor.Terminate());
        string output = sensor.Output;
        Assert.True(Regex.IsMatch(output, $@"ENDED {Regex.Escape(NamespacePair.ScannerAddress)} kinds=[a-z,-]*{kind}"), output);
        if (kind == "icmp-sweep")
        {
            // A sweep alone is low severity: logged, not blocked (Decide:BlockAt is medium).
            Assert.True(Regex.IsMatch(output, $@"DETECTED {Regex.Escape(NamespacePair.ScannerAddress)} kinds=[a-z,-]*icmp-sweep[a-z,-]* severity=low action=log"), output);
            Assert.DoesNotContain("BANNED", output);
            Assert.DoesNotContain("HELD", output);
            Assert.True(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
        }
        else
        {
            // TCP pings that fail are decided on by the walk after four hosts, before the sweep
            // has its eight: blocked as the failed TCP probes they are. An ACK counts only when a
            // host answers it with RST, so an ACK sweep, blocked after the live hosts' first
            // answers, never reaches eight and stays tcp-ack. Held: no handshake verified it.
            Assert.Contains($"HELD {NamespacePair.ScannerAddress}", output);
        }
    }

    [NamespaceFact]
    public void Web_clients_are_never_blocked_and_an_allowlisted_scanner_is_detected_but_not_blocked()
    {
        using var sensor = new SensorProcess(_pair.Target, _data, extra: ["--set", $"Allowlist:0={NamespacePair.ScannerAddress}/32"]);
        sensor.WaitFor("CAPTURING on ps-target");
        // Two hundred ordinary connections from a client: not a scan.
        var (added, why) = NamespacePair.Exec(_pair.Scanner, TimeSpan.FromSeconds(10), "ip", "addr", "add", "198.51.100.3/24", "dev", NamespacePair.ScannerDevice);
        Assert.True(added == 0, why);
        NamespacePair.In(_pair.Scanner, () =>
        {
            for (int i = 0; i < 200; i++)
            {
                using var client = new TcpClient(new IPEndPoint(IPAddress.Parse("198.51.100.3"), 0));
                client.Connect(IPAddress.Parse(NamespacePair.TargetAddress), Port);
                client.GetStream().Write("GET / HTTP/1.0\r\n\r\n"u8);
            }
            return 0;
        });
        // A real scan, from an allowlisted address.
        Scan(sensor, $"DETECTED {NamespacePair.ScannerAddress}", "-sS", "-p", "1-200");
        Assert.Contains("action=allowlisted", sensor.Output);
        Assert.Equal(0, sensor.Terminate());
        Assert.DoesNotContain("DETECTED 198.51.100.3", sensor.Output);
        Assert.DoesNotContain("BANNED", sensor.Output);
        Assert.DoesNotContain("HELD", sensor.Output);
        Assert.DoesNotContain(NamespacePair.ScannerAddress, HostsInSet());
        Assert.True(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
    }

    [NamespaceFact]
    public void A_ban_expires_when_its_time_is_up_and_a_second_offence_is_banned_longer()
    {
        using var sensor = new SensorProcess(_pair.Target, _data,
            extra: [.. _banUnverified, "--set", "Decide:BanSeconds=3", "--set", "Detection:IdleSeconds=1"]);
        sensor.WaitFor("CAPTURING on ps-target");
        Scan(sensor, $"BANNED {NamespacePair.ScannerAddress} for 3s offence=1", "-sS", "-p", "1-100");
        Assert.False(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (HostsInSet().Contains(NamespacePair.ScannerAddress, StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the ban never expired");
            Thread.Sleep(250);
        }
        if (!NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port))
        {
            // It failed once in CI and has not been reproduced since: show what held the scanner.
            Assert.Fail($"the scanner cannot connect once its ban has expired; the firewall:\n{NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "table", "inet", "portsentinel").Output}\nthe sensor:\n{sensor.Output}");
        }

        Scan(sensor, $"BANNED {NamespacePair.ScannerAddress} for 6s offence=2", "-sS", "-p", "101-200");
        Assert.Equal(0, sensor.Terminate());
    }

    [NamespaceFact]
    public void A_ban_the_firewall_refused_is_reported_and_retried_until_it_holds()
    {
        using var sensor = new SensorProcess(_pair.Target, _data, extra: _banUnverified);
        sensor.WaitFor("CAPTURING on ps-target");
        // The address set vanishes under the running sensor (its chain stays, so the sensor's
        // check of its setup sees nothing wrong): the first block is refused, the retry sets the
        // firewall up again.
        foreach (string command in new[] { "flush chain inet portsentinel prerouting", "delete set inet portsentinel hosts4" })
        {
            var (done, why) = NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), ["nft", .. command.Split(' ')]);
            Assert.True(done == 0, why);
        }
        Scan(sensor, $"BANNED {NamespacePair.ScannerAddress} for", "-sS", "-p", "1-100");
        string output = sensor.Output;
        Assert.True(Regex.IsMatch(output, $@"ERROR nftables refused to block {Regex.Escape(NamespacePair.ScannerAddress)}: .+; trying again in 1s"), output);
        Assert.True(Regex.IsMatch(output, $@"BANNED {Regex.Escape(NamespacePair.ScannerAddress)} for 35\d\ds offence=1 firewall=nftables after 2 attempts"), output);
        Assert.Contains(NamespacePair.ScannerAddress, HostsInSet());
        Assert.False(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
        Assert.Equal(0, sensor.Terminate());
        using SqliteStore record = SqliteStore.Open(_data);
        Assert.Single(record.ActiveBans(DateTimeOffset.UtcNow));
    }

    [NamespaceTheory]
    [InlineData("delete table inet portsentinel", "table inet portsentinel")] // as `nft flush ruleset` or a reload of nftables.conf would
    [InlineData("flush chain inet portsentinel prerouting; delete set inet portsentinel hosts4", "set hosts4, 6 of the 6 rules of chain prerouting")]
    public void When_its_setup_is_removed_from_outside_the_sensor_sets_it_up_again_with_its_bans(string removal, string named)
    {
        using var sensor = new SensorProcess(_pair.Target, _data);
        sensor.WaitFor("CAPTURING on ps-target");
        Scan(sensor, $"HELD {NamespacePair.ScannerAddress}", "-sS", "-p", "1-100");
        var (deleted, why) = NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), "nft", removal);
        Assert.True(deleted == 0, why);
        Assert.True(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
        sensor.WaitFor($"WARNING the nftables setup lost {named} (removed from outside, e.g. by nft flush ruleset or a reload of the rules); setting it up again with every ban in force");
        sensor.WaitFor("RESTORED 1 bans into nftables");
        Assert.Contains(NamespacePair.ScannerAddress, HostsInSet());
        Assert.False(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
        Assert.Equal(0, sensor.Terminate());
    }

    [NamespaceFact]
    public void Packets_the_kernel_dropped_are_reported_while_the_sensor_runs()
    {
        // A small ring, and the sensor stopped (SIGSTOP) while a burst arrives: the kernel must drop.
        using var sensor = new SensorProcess(_pair.Target, _data, extra: ["--set", "Capture:BufferBytes=262144"]);
        sensor.WaitFor("CAPTURING on ps-target");
        sensor.Pause();
        NamespacePair.In(_pair.Scanner, () =>
        {
            using var udp = new UdpClient(AddressFamily.InterNetwork);
            var target = new IPEndPoint(IPAddress.Parse(NamespacePair.TargetAddress), 9);
            byte[] datagram = new byte[32];
            for (int i = 0; i < 20_000; i++)
            {
                udp.Send(datagram, target);
            }
            return 0;
        });
        sensor.Resume();
        sensor.WaitFor("packets dropped by the kernel");
        string output = sensor.Output;
        Assert.True(Regex.IsMatch(output, @"WARNING ps-target: [1-9]\d* packets dropped by the kernel and \d+ by the interface in the last 5s \([1-9]\d* and \d+ since start\); raise Capture:BufferBytes"), output);
        Assert.Equal(0, sensor.Terminate());
        Assert.Matches(@"STOPPED ps-target: \d+ received, [1-9]\d* dropped by the kernel", sensor.Output);
    }

    [NamespaceFact]
    public void On_a_firewall_without_timeouts_the_sensor_lifts_a_hold_that_ran_out()
    {
        using var sensor = new SensorProcess(_pair.Target, _data, firewall: "iptables", extra: ["--set", "Decide:HoldSeconds=3"]);
        sensor.WaitFor("CAPTURING on ps-target");
        Scan(sensor, $"HELD {NamespacePair.ScannerAddress} for 3s firewall=iptables", "-sS", "-p", "1-100");
        Assert.Contains($"-s {NamespacePair.ScannerAddress}/32", BanRules(), StringComparison.Ordinal);
        Assert.False(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));
        sensor.WaitFor($"UNBANNED {NamespacePair.ScannerAddress} (ban expired) firewall=iptables");
        Assert.True(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port), sensor.Output + "\n" + BanRules());
        Assert.Equal(0, sensor.Terminate());
    }

    private string BanRules()
    {
        var (exit, rules) = NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), "iptables", "-t", "raw", "-S", PortSentinel.Respond.Iptables.IptablesFirewall.Chain);
        Assert.True(exit == 0, rules);
        return rules;
    }

    [NamespaceFact]
    public void Sighup_applies_a_new_configuration_refuses_a_bad_one_and_keeps_running()
    {
        string config = Path.Combine(Path.GetTempPath(), $"ps-reload-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(config, "{}");
            using var sensor = new SensorProcess(_pair.Target, _data, extra: ["--config", config]);
            sensor.WaitFor("CAPTURING on ps-target");

            // The scanner allowlisted, a trap port opened, a capture setting changed.
            File.WriteAllText(config, $$"""{ "Allowlist": [ "{{NamespacePair.ScannerAddress}}" ], "Trap": { "TcpPorts": [ 31337 ] }, "Capture": { "SnapLength": 256 } }""");
            sensor.HangUp();
            sensor.WaitFor("RELOADED configuration: detection unchanged, trap changed");
            sensor.WaitFor("TRAP listening on tcp/31337");
            sensor.WaitFor("WARNING changes to Capture take effect at the next start");
            // The kernel guard is re-armed with the new allowlist: refused on a hundred closed
            // ports, the scanner is not held, and the whole scan runs its course.
            string allowed = Regex.Match(sensor.Output, @"RELOADED configuration: .* (\d+) allowlist entries applied").Groups[1].Value;
            sensor.WaitFor($"; {allowed} allowed networks never held");
            Scan(sensor, null, "-sS", "-p", "1-100");
            sensor.WaitFor($"DETECTED {NamespacePair.ScannerAddress} kinds=tcp-syn");
            Assert.Contains("action=allowlisted", sensor.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("BANNED", sensor.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("HELD", sensor.Output, StringComparison.Ordinal);
            Assert.True(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));

            File.WriteAllText(config, """{ "Detection": { "VerticalPorts": 0 } }""");
            sensor.HangUp();
            sensor.WaitFor("ERROR reload refused, the running configuration stays: Detection:VerticalPorts is 0");

            // New thresholds: port 8080 becomes a tripwire; the allowlist is gone.
            File.WriteAllText(config, """{ "Detection": { "TripwireTcpPorts": [ 8080 ] } }""");
            sensor.HangUp();
            sensor.WaitFor("RELOADED configuration: detection changed, trap changed");
            NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port);
            sensor.WaitFor($"BANNED {NamespacePair.ScannerAddress} for 3600s offence=1");
            Assert.Contains("trigger=tripwire", sensor.Output, StringComparison.Ordinal);
            Assert.Equal(0, sensor.Terminate());
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fail2banFact]
    public void Fail2ban_matches_exactly_the_scanners_that_were_blocked_in_real_sensor_output()
    {
        string log = Path.Combine(_data, "portsentinel.log");
        using (var sensor = new SensorProcess(_pair.Target, _data, "dry-run", extra: _banUnverified))
        {
            sensor.WaitFor("CAPTURING on ps-target");
            Scan(sensor, $"BANNED {NamespacePair.ScannerAddress}", "-sS", "-p", "1-100");
            Assert.Equal(0, sensor.Terminate());
            File.WriteAllText(log, sensor.Output + "\n");
        }
        // Installed as fail2ban expects: the filter in filter.d beside the common.conf it includes.
        string filterDirectory = Directory.CreateDirectory(Path.Combine(_data, "filter.d")).FullName;
        File.Copy("/etc/fail2ban/filter.d/common.conf", Path.Combine(filterDirectory, "common.conf"));
        string filter = Path.Combine(filterDirectory, "portsentinel.conf");
        File.Copy(Path.Combine(Corpus.CorpusFiles.Root, "deploy", "fail2ban", "filter.d", "portsentinel.conf"), filter);
        var start = new ProcessStartInfo("fail2ban-regex") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "--print-all-matched", log, filter })
        {
            start.ArgumentList.Add(arg);
        }
        using Process regex = Process.Start(start)!;
        string report = regex.StandardOutput.ReadToEnd() + regex.StandardError.ReadToEnd();
        Assert.True(regex.WaitForExit(TimeSpan.FromSeconds(60)), report);
        Assert.True(regex.ExitCode == 0, report);
        Assert.Matches(@"Lines: \d+ lines, 0 ignored, 1 matched", report);
        Assert.Contains($"DETECTED {NamespacePair.ScannerAddress} ", report);
        Assert.Contains($"{NamespacePair.ScannerAddress} ", report[report.IndexOf("Failregex", StringComparison.Ordinal)..]);
    }

    [NamespaceFact]
    public void The_sensor_needs_no_root_only_cap_net_raw_and_cap_net_admin()
    {
        // As the systemd unit runs it: a user of its own (here nobody) with just two capabilities.
        Directory.CreateDirectory(_data);
        using (Process chown = Process.Start("chown", ["65534:65534", _data])!)
        {
            chown.WaitForExit();
        }
        string[] unprivileged =
        [
            "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=-all,+net_raw,+net_admin", "--ambient-caps=-all,+net_raw,+net_admin", "--bounding-set=-all,+net_raw,+net_admin",
            "env", $"HOME={_data}",
        ];
        using (var sensor = new SensorProcess(_pair.Target, Path.Combine(_data, "db"), "nftables", unprivileged))
        {
            sensor.WaitFor("CAPTURING on ps-target");
            Scan(sensor, $"HELD {NamespacePair.ScannerAddress}", "-sS", "-p", "1-100");
            Assert.Equal(0, sensor.Terminate());
        }
        Assert.Contains(NamespacePair.ScannerAddress, HostsInSet());
        Assert.Equal(65534, FileOwner(Path.Combine(_data, "db", SqliteStore.FileName))); // written by the unprivileged user
    }

    private static int FileOwner(string path)
    {
        using Process stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u", path]) { RedirectStandardOutput = true })!;
        string uid = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return int.Parse(uid, System.Globalization.CultureInfo.InvariantCulture);
    }

    [NamespaceFact]
    public void A_contact_with_a_trap_port_bans_at_once_and_a_port_in_use_is_left_alone()
    {
        var (added, why) = NamespacePair.Exec(_pair.Scanner, TimeSpan.FromSeconds(10), "ip", "addr", "add", "198.51.100.3/24", "dev", NamespacePair.ScannerDevice);
        Assert.True(added == 0, why);
        string[] trap = ["--set", "Trap:TcpPorts:0=31337", "--set", $"Trap:TcpPorts:1={Port}", "--set", "Trap:UdpPorts:0=1524", "--set", "Trap:Banner=SSH-2.0-OpenSSH_9.2"];
        using var sensor = new SensorProcess(_pair.Target, _data, "nftables", extra: trap);
        sensor.WaitFor("TRAP listening on tcp/31337, udp/1524");
        Assert.Contains($"TRAP tcp/{Port} left alone: a service already listens there", sensor.Output);

        Assert.True(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, 31337)); // the trap answers, once
        sensor.WaitFor($"BANNED {NamespacePair.ScannerAddress}");
        Assert.Matches($@"DETECTED {Regex.Escape(NamespacePair.ScannerAddress)} kinds=tcp-connect,tripwire severity=critical action=block trigger=trap", sensor.Output);
        Assert.False(NamespacePair.Connects(_pair.Scanner, NamespacePair.TargetAddress, Port));

        NamespacePair.In(_pair.Scanner, () =>
        {
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Parse("198.51.100.3"), 0));
            return udp.Send("probe"u8.ToArray(), new IPEndPoint(IPAddress.Parse(NamespacePair.TargetAddress), 1524));
        });
        sensor.WaitFor("HELD 198.51.100.3"); // a UDP datagram shows nothing of where it came from
        Assert.Contains("DETECTED 198.51.100.3 kinds=udp,tripwire", sensor.Output);
        Assert.Equal(0, sensor.Terminate());
    }

    /// <summary>
    /// nmap from the scanner namespace at the target, until the sensor logs <paramref name="until"/>
    /// (null: until nmap is done); then nmap is stopped. Once the kernel guard holds it, nmap meets silence and backs off for
    /// minutes, while what the tests check is decided within milliseconds.
    /// </summary>
    private void Scan(SensorProcess sensor, string? until, params string[] nmap)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        // -Pn (no host discovery first) except for a ping sweep (-sn), which is nothing but discovery.
        string[] discovery = nmap.Contains("-sn") ? [] : ["-Pn"];
        foreach (string argument in (string[])["netns", "exec", _pair.Scanner, "nmap", "-n", .. discovery, .. nmap, "--max-retries", "1", "--host-timeout", "60s", NamespacePair.TargetAddress])
        {
            start.ArgumentList.Add(argument);
        }
        using Process scan = Process.Start(start)!;
        Task<string> output = scan.StandardOutput.ReadToEndAsync();
        Task<string> errors = scan.StandardError.ReadToEndAsync();
        try
        {
            if (until is null)
            {
                Assert.True(scan.WaitForExit(TimeSpan.FromMinutes(2)), "nmap ran past two minutes");
            }
            else
            {
                sensor.WaitFor(until);
            }
        }
        catch (Xunit.Sdk.XunitException e)
        {
            scan.Kill();
            scan.WaitForExit();
            Assert.Fail($"{e.Message}\nnmap said:\n{output.Result}{errors.Result}");
        }
        scan.Kill();
        scan.WaitForExit();
    }

    private string HostsInSet()
    {
        var (exit, output) = NamespacePair.Exec(_pair.Target, TimeSpan.FromSeconds(10), "nft", "list", "set", "inet", "portsentinel", "hosts4");
        Assert.True(exit == 0, output);
        return output;
    }

    public void Dispose()
    {
        _server.Dispose();
        _pair.Dispose();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }
}

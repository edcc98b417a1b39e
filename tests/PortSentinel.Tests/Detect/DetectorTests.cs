using PortSentinel.Decode;
using PortSentinel.Detect;
using static PortSentinel.Tests.Detect.DetectorHarness;

namespace PortSentinel.Tests.Detect;

public class DetectorTests
{
    private static readonly NetAddress _scanner = A("192.0.2.1");
    private static readonly NetAddress _target = A("192.0.2.2");

    private static string[] Kinds(Detection d) => ScanKindNames.Names(d.Kinds);

    [Fact]
    public void Syn_scan_of_closed_ports_is_a_vertical_tcp_syn_scan_with_exact_evidence()
    {
        var h = new DetectorHarness();
        for (ushort port = 1; port <= 200; port++)
        {
            h.SynToClosed(_scanner, _target, port);
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Equal(_scanner, d.Source);
        Assert.Equal(["tcp-syn", "vertical"], Kinds(d));
        Assert.Equal(200, d.Ports);
        Assert.Equal(200, d.Probes);
        Assert.Equal([_target], d.Targets);
        Assert.Equal("tcp 1-200", d.PortRanges);
        Assert.Equal(200, d.Outcomes.Closed);
        Assert.Equal("trw", d.Trigger);
        Assert.True(d.Last > d.First);
    }

    [Fact]
    public void A_scanner_is_announced_once_before_its_evidence_is_gathered_and_raised()
    {
        // The sensor wakes its respond thread on the announcement (RespondWorker.GetReadyFor).
        var h = new DetectorHarness();
        NetAddress other = A("192.0.2.9");
        for (ushort port = 1; port <= 50; port++)
        {
            h.SynToClosed(_scanner, _target, port);
            h.SynToClosed(other, _target, port);
        }
        h.Finish();
        Assert.Equal([("raising", _scanner), ("raised", _scanner), ("raising", other), ("raised", other)], h.Calls);
    }

    [Fact]
    public void Trw_decides_on_the_fourth_failed_first_contact_not_the_third()
    {
        // ln 4 per failure against ln 99: 3 failures give 4.16, 4 give 5.55 > 4.60.
        var h = new DetectorHarness();
        for (ushort port = 1; port <= 3; port++)
        {
            h.SynToClosed(_scanner, _target, port);
        }
        Assert.Empty(h.Raised);
        h.SynToClosed(_scanner, _target, 4);
        Detection d = Assert.Single(h.Raised);
        Assert.Equal("trw", d.Trigger);
        Assert.False(d.Final);
        Assert.Equal(4, d.Ports);
        Assert.True(d.Confidence >= 0.99);
    }

    [Fact]
    public void Successes_reset_the_walk_so_a_busy_client_with_some_failures_stays_benign()
    {
        var h = new DetectorHarness();
        var client = A("198.51.100.7");
        for (int round = 0; round < 20; round++)
        {
            // Four good connections, then three refused ones: never four failures in a row.
            for (int i = 0; i < 4; i++)
            {
                h.Connection(client, (ushort)(50000 + (round * 10) + i), A($"203.0.113.{(round * 7) + i + 1}"), 443);
            }
            for (int i = 0; i < 3; i++)
            {
                h.SynToClosed(client, A($"203.0.113.{200 + i}"), (ushort)(8000 + (round * 3) + i));
            }
            h.Advance(60 * Second);
        }
        Assert.Empty(h.Finish());
    }

    [Fact]
    public void Web_clients_browsing_many_servers_and_a_server_answering_them_raise_nothing()
    {
        var h = new DetectorHarness();
        for (int client = 1; client <= 40; client++)
        {
            for (int server = 1; server <= 30; server++)
            {
                h.Connection(A($"198.51.100.{client}"), (ushort)(40000 + server), A($"203.0.113.{server}"), 443);
            }
        }
        Assert.Empty(h.Finish());
        Assert.Empty(h.Raised);
    }

    [Fact]
    public void Repeated_attempts_on_one_closed_port_are_one_first_contact()
    {
        var h = new DetectorHarness();
        for (int i = 0; i < 50; i++)
        {
            h.SynToClosed(_scanner, _target, 8081, (ushort)(41000 + i));
            h.Advance(Second);
        }
        Assert.Empty(h.Finish());
        Assert.Equal(1, h.Detector.Counters.FirstContacts);
    }

    [Theory]
    [InlineData(TcpFlags.Fin, "tcp-fin")]
    [InlineData(TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Urg, "tcp-xmas")]
    [InlineData(TcpFlags.None, "tcp-null")]
    [InlineData(TcpFlags.Syn | TcpFlags.Fin, "tcp-other")]
    [InlineData(TcpFlags.Psh | TcpFlags.Urg, "tcp-other")]
    public void Stealth_probes_are_named_by_their_flags_and_judged_without_an_answer(TcpFlags flags, string kind)
    {
        var h = new DetectorHarness();
        for (ushort port = 1; port <= 30; port++)
        {
            h.Feed(Tcp(_scanner, 40000, _target, port, flags));
            h.Advance(Ms);
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Equal([kind, "vertical"], Kinds(d));
        Assert.Equal(30, d.Ports);
    }

    [Theory]
    [InlineData(TcpFlags.Ack, "tcp-ack")]
    [InlineData(TcpFlags.Ack | TcpFlags.Fin, "tcp-maimon")]
    public void Unsolicited_acks_count_when_the_target_answers_rst(TcpFlags flags, string kind)
    {
        var h = new DetectorHarness();
        for (ushort port = 1; port <= 30; port++)
        {
            h.Feed(Tcp(_scanner, 40000, _target, port, flags));
            h.Advance(100);
            h.Feed(Tcp(_target, port, _scanner, 40000, TcpFlags.Rst));
            h.Advance(Ms);
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Equal([kind, "vertical"], Kinds(d));
    }

    [Fact]
    public void Connections_already_under_way_when_watching_starts_are_not_ack_probes()
    {
        // A server's pure ACKs to 300 clients whose connections began before the capture, each
        // answered with data: no probe, no detection.
        var h = new DetectorHarness();
        var server = A("192.0.2.80");
        for (int i = 1; i <= 300; i++)
        {
            var client = A($"198.51.100.{(i % 250) + 1}");
            ushort clientPort = (ushort)(30000 + i);
            h.Feed(Tcp(server, 443, client, clientPort, TcpFlags.Ack));
            h.Feed(Tcp(client, clientPort, server, 443, TcpFlags.Ack | TcpFlags.Psh, payload: 500));
            h.Advance(Ms);
        }
        Assert.Empty(h.Finish());
    }

    [Fact]
    public void Connect_scan_is_told_from_syn_scan_by_the_stack_options_and_counts_open_ports_dropped_unused()
    {
        const TcpOptionKinds stack = TcpOptionKinds.Mss | TcpOptionKinds.SackPermitted | TcpOptionKinds.Timestamp | TcpOptionKinds.WindowScale;
        var h = new DetectorHarness();
        // Twelve open ports only: every handshake succeeds, then is reset without data.
        for (ushort port = 1; port <= 12; port++)
        {
            ushort sport = (ushort)(50000 + port);
            h.Feed(Tcp(_scanner, sport, _target, port, TcpFlags.Syn, options: stack));
            h.Feed(Tcp(_target, port, _scanner, sport, TcpFlags.Syn | TcpFlags.Ack, options: stack));
            h.Feed(Tcp(_scanner, sport, _target, port, TcpFlags.Ack));
            h.Feed(Tcp(_scanner, sport, _target, port, TcpFlags.Rst | TcpFlags.Ack));
            h.Advance(Ms);
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Equal(["tcp-connect", "vertical"], Kinds(d));
        Assert.Equal("threshold", d.Trigger);
        Assert.Equal(12, d.Outcomes.Dropped);
    }

    [Fact]
    public void Udp_scan_answered_by_port_unreachables_is_a_vertical_udp_scan_v4_and_v6()
    {
        foreach (var (scanner, target) in new[] { (_scanner, _target), (A("2001:db8::1"), A("2001:db8::2")) })
        {
            var h = new DetectorHarness();
            for (ushort port = 1; port <= 40; port++)
            {
                h.Feed(Udp(scanner, 50000, target, port));
                h.Advance(100);
                h.Feed(PortUnreachable(target, scanner, 50000, port));
                h.Advance(Ms);
            }
            Detection d = Assert.Single(h.Finish());
            Assert.Equal(["udp", "vertical"], Kinds(d));
            Assert.Equal(40, d.Outcomes.Unreachable);
            Assert.Equal(scanner, d.Source);
        }
    }

    [Fact]
    public void Dns_answers_to_many_client_ports_are_replies_not_probes()
    {
        var h = new DetectorHarness();
        var resolver = A("192.0.2.53");
        for (int i = 0; i < 500; i++)
        {
            var client = A($"198.51.100.{(i % 20) + 1}");
            ushort sport = (ushort)(20000 + (i * 37));
            h.Feed(Udp(client, sport, resolver, 53));
            h.Feed(Udp(resolver, 53, client, sport));
            h.Advance(Ms);
        }
        Assert.Empty(h.Finish());
    }

    [Fact]
    public void Traceroute_probes_are_left_out()
    {
        var h = new DetectorHarness();
        for (int i = 0; i < 48; i++)
        {
            var probe = Udp(_scanner, 45000, _target, (ushort)(33434 + i), ttl: (byte)((i / 3) + 1));
            h.Feed(probe);
            h.Feed(PortUnreachable(_target, _scanner, 45000, (ushort)(33434 + i)));
        }
        Assert.Empty(h.Finish());
        Assert.Equal(48, h.Detector.Counters.Traceroute);
    }

    [Fact]
    public void Echo_sweep_over_mostly_empty_addresses_is_an_icmp_sweep_once_the_silence_times_out()
    {
        var h = new DetectorHarness();
        for (int host = 1; host <= 30; host++)
        {
            var target = A($"198.51.100.{host}");
            h.Feed(Icmp(_scanner, target, 8));
            if (host <= 12)
            {
                h.Feed(Icmp(target, _scanner, 0));
            }
            h.Advance(10 * Ms);
        }
        Assert.Empty(h.Raised);
        h.Advance(4 * Second);
        h.Feed(Icmp(_scanner, A("203.0.113.99"), 8)); // any later packet moves packet time on
        Assert.Single(h.Raised);
        Detection d = Assert.Single(h.Finish());
        Assert.Equal(["icmp-sweep", "horizontal"], Kinds(d));
        Assert.Equal(31, d.TargetCount);
        Assert.Equal(0, d.Ports);
    }

    [Fact]
    public void Syn_pings_to_one_port_across_many_hosts_are_a_tcp_ping_sweep()
    {
        var h = new DetectorHarness();
        for (int host = 1; host <= 30; host++)
        {
            var target = A($"198.51.100.{host}");
            h.Feed(Tcp(_scanner, 40000, target, 80, TcpFlags.Syn));
            if (host <= 12)
            {
                h.Feed(Tcp(target, 80, _scanner, 40000, TcpFlags.Syn | TcpFlags.Ack));
                h.Feed(Tcp(_scanner, 40000, target, 80, TcpFlags.Rst));
            }
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Equal(["tcp-ping-sweep", "horizontal"], Kinds(d));
    }

    [Fact]
    public void Many_ip_protocols_to_one_host_are_an_ip_protocol_scan()
    {
        var h = new DetectorHarness();
        for (int protocol = 0; protocol < 256; protocol++)
        {
            if (protocol is 1 or 6 or 17 or 58 or 132)
            {
                continue;
            }
            h.Feed(Protocol(_scanner, _target, (byte)protocol));
            h.Advance(Ms);
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Equal(["ip-protocol"], Kinds(d));
        Assert.Equal(251, d.Protocols);
    }

    [Fact]
    public void A_vpn_tunnel_of_one_or_two_protocols_is_not_a_protocol_scan()
    {
        var h = new DetectorHarness();
        for (int i = 0; i < 10_000; i++)
        {
            h.Feed(Protocol(_scanner, _target, 50));
            h.Feed(Protocol(_target, _scanner, 47));
            h.Advance(Ms);
        }
        Assert.Empty(h.Finish());
    }

    [Fact]
    public void A_probe_every_ten_seconds_never_fills_the_short_window_but_is_a_slow_scan()
    {
        var h = new DetectorHarness(new DetectorOptions { TrwAlpha = 1e-9 }); // keep TRW out of it
        for (ushort port = 1; port <= 15; port++)
        {
            h.SynToClosed(_scanner, _target, port);
            h.Advance(10 * Second);
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Contains("slow", Kinds(d));
        Assert.Contains("tcp-syn", Kinds(d));
        Assert.Equal("slow", d.Trigger);
    }

    [Fact]
    public void A_fast_scan_is_not_slow()
    {
        var h = new DetectorHarness(new DetectorOptions { TrwAlpha = 1e-9 });
        for (ushort port = 1; port <= 100; port++)
        {
            h.SynToClosed(_scanner, _target, port);
        }
        Detection d = Assert.Single(h.Finish());
        Assert.DoesNotContain("slow", Kinds(d));
        Assert.Equal("threshold", d.Trigger);
    }

    [Fact]
    public void Decoys_probing_the_same_ports_together_are_each_a_distributed_scan()
    {
        var h = new DetectorHarness();
        NetAddress[] sources = [A("203.0.113.7"), A("203.0.113.9"), _scanner];
        for (ushort port = 1; port <= 100; port++)
        {
            foreach (NetAddress source in sources)
            {
                h.SynToClosed(source, _target, port);
            }
        }
        var detections = h.Finish();
        Assert.Equal(3, detections.Count);
        Assert.All(detections, d => Assert.Equal(["tcp-syn", "vertical", "distributed"], Kinds(d)));
    }

    [Fact]
    public void Two_unrelated_scanners_of_different_hosts_are_not_distributed()
    {
        var h = new DetectorHarness();
        for (ushort port = 1; port <= 100; port++)
        {
            h.SynToClosed(A("203.0.113.7"), _target, port);
            h.SynToClosed(A("203.0.113.9"), A("192.0.2.3"), port);
            h.SynToClosed(_scanner, A("192.0.2.4"), port);
        }
        Assert.All(h.Finish(), d => Assert.DoesNotContain("distributed", Kinds(d)));
    }

    [Fact]
    public void A_single_probe_to_a_tripwire_port_fires_at_once()
    {
        var h = new DetectorHarness(new DetectorOptions { TripwireTcpPorts = [31337], TripwireUdpPorts = [1524] });
        h.Feed(Tcp(_scanner, 40000, _target, 31337, TcpFlags.Syn));
        Detection d = Assert.Single(h.Raised);
        Assert.Equal("tripwire", d.Trigger);
        Assert.Contains("tripwire", Kinds(d));
        Assert.Equal(1.0, d.Confidence);
        h.Feed(Udp(A("198.51.100.4"), 5000, _target, 1524));
        Assert.Equal(2, h.Raised.Count);
    }

    [Fact]
    public void Ipv6_sources_are_aggregated_to_the_configured_prefix()
    {
        var h = new DetectorHarness(new DetectorOptions { Ipv6Prefix = 64 });
        var target = A("2001:db8:ffff::2");
        for (ushort port = 1; port <= 40; port++)
        {
            // Each probe from a different address of one /64, as an address-rotating scanner does.
            h.SynToClosed(A($"2001:db8:1:2::{port:x}"), target, port);
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Equal(A("2001:db8:1:2::"), d.Source);
        Assert.Equal(40, d.Ports);
    }

    [Fact]
    public void A_scan_ends_after_the_idle_time_and_a_later_one_is_a_new_detection()
    {
        var h = new DetectorHarness(new DetectorOptions { IdleSeconds = 120 });
        for (ushort port = 1; port <= 20; port++)
        {
            h.SynToClosed(_scanner, _target, port);
        }
        h.Advance(121 * Second);
        h.Feed(Tcp(A("198.51.100.1"), 1, A("198.51.100.2"), 2, TcpFlags.Ack | TcpFlags.Psh, payload: 10));
        Detection first = Assert.Single(h.Closed);
        Assert.True(first.Final);
        for (ushort port = 1000; port <= 1020; port++)
        {
            h.SynToClosed(_scanner, _target, port);
        }
        var all = h.Finish();
        Assert.Equal(2, all.Count);
        Assert.Equal("tcp 1000-1020", all[1].PortRanges);
    }

    [Fact]
    public void The_same_input_gives_the_same_detections()
    {
        static string Run()
        {
            var h = new DetectorHarness();
            for (ushort port = 1; port <= 60; port++)
            {
                h.SynToClosed(_scanner, _target, port);
                h.Feed(Udp(A("203.0.113.5"), 999, A($"198.51.100.{port}"), 161));
                h.Advance(50 * Ms);
            }
            return string.Join("\n", h.Finish().Select(d => $"{d.Source} {d.Kinds} {d.Ports} {d.TargetCount} {d.First:O} {d.Last:O} {d.Probes}"));
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Outcomes_tally_each_contact_once_by_its_final_state()
    {
        var h = new DetectorHarness();
        for (ushort port = 1; port <= 20; port++)
        {
            ushort sport = (ushort)(40000 + port);
            h.Feed(Tcp(_scanner, sport, _target, port, TcpFlags.Syn));
            if (port <= 3)
            {
                // Open: SYN-ACK, then the prober's kernel resets the half-open connection.
                h.Feed(Tcp(_target, port, _scanner, sport, TcpFlags.Syn | TcpFlags.Ack));
                h.Feed(Tcp(_scanner, sport, _target, port, TcpFlags.Rst));
            }
            else if (port <= 18)
            {
                h.Feed(Tcp(_target, port, _scanner, sport, TcpFlags.Rst | TcpFlags.Ack));
            }
            h.Advance(Ms);
        }
        for (ushort port = 100; port <= 104; port++)
        {
            h.Feed(Tcp(_scanner, 40000, _target, port, TcpFlags.Fin));
            h.Feed(Tcp(_target, port, _scanner, 40000, TcpFlags.Rst | TcpFlags.Ack));
        }
        Detection d = Assert.Single(h.Finish());
        Assert.Equal(new DetectionOutcomes(Open: 0, Closed: 15 + 5, Unreachable: 0, Unanswered: 2, Dropped: 3), d.Outcomes);
    }

    [Fact]
    public void Repeats_of_one_probe_after_a_flood_evicted_its_contact_are_not_new_first_contacts()
    {
        // A spoofed flood: a source sends SYNs to one closed port, each from a new source port,
        // while thousands of other contacts push its flow out of a small table between them.
        var h = new DetectorHarness(new DetectorOptions { FlowCapacity = 64 });
        NetAddress spoofed = A("2001:db8::77");
        for (int round = 0; round < 8; round++)
        {
            h.SynToClosed(spoofed, _target, 80, sport: (ushort)(20000 + round));
            for (int i = 0; i < 300; i++)
            {
                // Each filler source fails once: far from a scan.
                h.SynToClosed(A($"2001:db8:1::{(round * 300) + i:x}"), A($"198.51.100.{i % 250}"), (ushort)(1000 + i));
            }
        }
        Assert.DoesNotContain(h.Finish(), d => d.Source == spoofed);
    }

    [Fact]
    public void A_scanner_whose_probes_are_each_of_another_kind_is_raised_with_the_kinds_it_used()
    {
        var h = new DetectorHarness();
        h.SynToClosed(_scanner, _target, 1);
        foreach (var (port, flags) in new[] { ((ushort)2, TcpFlags.Fin), ((ushort)3, TcpFlags.None), ((ushort)4, TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Urg) })
        {
            h.Feed(Tcp(_scanner, 40000, _target, port, flags));
            h.Feed(Tcp(_target, port, _scanner, 40000, TcpFlags.Rst | TcpFlags.Ack));
            h.Advance(Ms);
        }
        Detection d = Assert.Single(h.Raised);
        Assert.Equal(["tcp-syn", "tcp-fin", "tcp-xmas", "tcp-null"], Kinds(d));
    }

    [Theory]
    [InlineData(TcpFlags.Ack, 1001u, true)] // a connect scan completes the handshake
    [InlineData(TcpFlags.Rst | TcpFlags.Ack, 1001u, true)]
    [InlineData(TcpFlags.Rst, 0u, false)] // nmap -sS's bare RST: its sequence number is its own
    [InlineData(TcpFlags.Ack, 77u, false)] // a forged ACK that guessed wrong
    public void A_scanner_is_verified_only_by_acknowledging_the_syn_ack_it_was_sent(TcpFlags answer, uint ack, bool verified)
    {
        var h = new DetectorHarness();
        h.Feed(Tcp(_scanner, 40000, _target, 80, TcpFlags.Syn));
        h.Feed(Tcp(_target, 80, _scanner, 40000, TcpFlags.Syn | TcpFlags.Ack) with { TcpSequence = 1000 });
        h.Feed(Tcp(_scanner, 40000, _target, 80, answer) with { TcpAcknowledgment = ack });
        for (ushort port = 1; port <= 10; port++)
        {
            h.SynToClosed(_scanner, _target, port);
        }
        Assert.Equal(verified, Assert.Single(h.Raised).Verified);
        Assert.Empty(h.Verified); // raised verified, or never: nothing to tell again
    }

    [Fact]
    public void A_scanner_raised_unverified_is_told_again_once_when_it_completes_a_handshake()
    {
        var h = new DetectorHarness();
        for (ushort port = 1; port <= 10; port++)
        {
            h.SynToClosed(_scanner, _target, port);
        }
        Assert.False(Assert.Single(h.Raised).Verified);
        for (uint isn = 1000; isn <= 3000; isn += 1000)
        {
            ushort sport = (ushort)(40000 + (isn / 1000));
            h.Feed(Tcp(_scanner, sport, _target, 80, TcpFlags.Syn));
            h.Feed(Tcp(_target, 80, _scanner, sport, TcpFlags.Syn | TcpFlags.Ack) with { TcpSequence = isn });
            h.Feed(Tcp(_scanner, sport, _target, 80, TcpFlags.Ack) with { TcpAcknowledgment = isn + 1 });
            h.Advance(Ms);
        }
        Detection told = Assert.Single(h.Verified);
        Assert.True(told.Verified);
        Assert.False(told.Final);
        Assert.True(told.Ports >= 10);
        Assert.True(Assert.Single(h.Finish(), d => d.Final).Verified);
    }

    [Fact]
    public void Invalid_options_are_refused_naming_the_key()
    {
        var options = new DetectorOptions { SourceCapacity = 1000, TrwTheta1 = 0.9, TripwireTcpPorts = [70000] };
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains("Detection:SourceCapacity", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Detection:TrwTheta1", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Detection:TripwireTcpPorts", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new Detector(options, new DetectorHarness()));
    }
}

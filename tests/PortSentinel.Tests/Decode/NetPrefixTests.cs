using PortSentinel.Decode;

namespace PortSentinel.Tests.Decode;

public sealed class NetPrefixTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData(" 198.51.100.0/24 ", "198.51.100.0/24")]
    [InlineData("2001:DB8::1", "2001:db8::1")]
    [InlineData("2001:db8::/32", "2001:db8::/32")]
    [InlineData("::ffff:192.0.2.1", "192.0.2.1")] // an IPv4-mapped address is the IPv4 host
    public void Addresses_and_networks_parse_to_their_usual_form(string text, string expected)
    {
        Assert.True(NetPrefix.TryParse(text, out NetPrefix? prefix));
        Assert.Equal(expected, prefix.Value.ToString());
    }

    [Theory]
    [InlineData("203.0.113")] // inet_aton would read 203.0.0.113
    [InlineData("10.1/16")]
    [InlineData("3405803783")] // 203.0.113.7 as one number
    [InlineData("203.0.113.7/33")]
    [InlineData("203.0.113.7/24/1")]
    [InlineData("2001:db8::/129")]
    [InlineData("")]
    [InlineData("example.org")]
    public void Short_forms_numbers_and_impossible_lengths_are_refused(string text) =>
        Assert.False(NetPrefix.TryParse(text, out _));
}

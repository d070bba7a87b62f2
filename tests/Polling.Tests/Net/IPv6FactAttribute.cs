using Xunit;

namespace Polling.Tests.Net;

/// <summary>A fact that is skipped, with the reason, where the kernel has no IPv6 loopback (::1).</summary>
public sealed class IPv6FactAttribute : FactAttribute
{
    public IPv6FactAttribute()
    {
        if (!NetHelpers.HasIPv6Loopback())
        {
            Skip = "This kernel/network namespace has no IPv6 loopback (::1 cannot be bound).";
        }
    }
}

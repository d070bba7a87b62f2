using MiniRedis.Storage;
using Polling;

namespace MiniRedis.Tests;

/// <summary>Expiry to the millisecond: lazy on access (a key due at t lives at t, is gone at t+1, as in redis) and swept on a timer wheel.</summary>
public sealed class ExpiryTests
{
    private readonly Db _db = new();

    [Fact]
    public void A_key_lives_through_its_last_millisecond_and_not_one_more()
    {
        Assert.Equal("+OK\r\n", _db.Run("SET", "k", "v", "PX", "100"));
        _db.Clock.Advance(99);
        Assert.Equal(":1\r\n", _db.Run("PTTL", "k"));
        _db.Clock.Advance(1);
        Assert.Equal("$1\r\nv\r\n", _db.Run("GET", "k"));
        Assert.Equal(":0\r\n", _db.Run("PTTL", "k"));
        _db.Clock.Advance(1);
        Assert.Equal("$-1\r\n", _db.Run("GET", "k"));
        Assert.Equal(":-2\r\n", _db.Run("PTTL", "k"));
        Assert.Equal(":0\r\n", _db.Run("DBSIZE"));
    }

    [Fact]
    public void Expired_keys_are_absent_to_every_command()
    {
        _db.Run("SET", "s", "5", "PX", "10");
        _db.Run("RPUSH", "l", "a");
        _db.Run("PEXPIRE", "l", "10");
        _db.Clock.Advance(11);
        Assert.Equal(":2\r\n", _db.Run("DBSIZE"));   // not looked at yet: still counted, as in redis
        Assert.Equal(":0\r\n", _db.Run("EXISTS", "s", "l"));
        Assert.Equal(":0\r\n", _db.Run("DBSIZE"));
        _db.Run("SET", "s", "5", "PX", "10");
        _db.Clock.Advance(11);
        Assert.Equal(":1\r\n", _db.Run("INCR", "s"));   // a fresh counter, not 6
        Assert.Equal(":-1\r\n", _db.Run("PTTL", "s"));
        _db.Run("SET", "n", "x", "PX", "10");
        _db.Clock.Advance(11);
        Assert.Equal("+OK\r\n", _db.Run("SET", "n", "y", "NX"));
        Assert.Equal("*0\r\n", Keys("gone*"));
    }

    [Fact]
    public void Expire_and_p_expire()
    {
        Assert.Equal(":0\r\n", _db.Run("EXPIRE", "missing", "10"));
        _db.Run("SET", "k", "v");
        Assert.Equal(":-1\r\n", _db.Run("TTL", "k"));
        Assert.Equal(":1\r\n", _db.Run("EXPIRE", "k", "10"));
        Assert.Equal(":10000\r\n", _db.Run("PTTL", "k"));
        Assert.Equal(":1\r\n", _db.Run("PEXPIRE", "k", "2500"));
        Assert.Equal(":3\r\n", _db.Run("TTL", "k"));
        _db.Clock.Advance(1001);
        Assert.Equal(":1499\r\n", _db.Run("PTTL", "k"));
        Assert.Equal(":1\r\n", _db.Run("TTL", "k"));
        Assert.Equal(":1\r\n", _db.Run("EXPIRE", "k", "0"));   // due now or earlier: deleted at once
        Assert.Equal(":0\r\n", _db.Run("EXISTS", "k"));
        _db.Run("SET", "k", "v");
        Assert.Equal(":1\r\n", _db.Run("PEXPIRE", "k", "-5"));
        Assert.Equal(":0\r\n", _db.Run("EXISTS", "k"));
        Assert.Equal("-ERR value is not an integer or out of range\r\n", _db.Run("EXPIRE", "k", "1.5"));
        Assert.Equal("-ERR invalid expire time in 'expire' command\r\n", _db.Run("EXPIRE", "k", "9223372036854775807"));
        Assert.Equal("-ERR invalid expire time in 'pexpire' command\r\n", _db.Run("PEXPIRE", "k", "9223372036854775807"));
        Assert.Equal("-ERR wrong number of arguments for 'expire' command\r\n", _db.Run("EXPIRE", "k"));
    }

    [Fact]
    public void Expire_conditions()
    {
        _db.Run("SET", "k", "v");
        Assert.Equal(":0\r\n", _db.Run("EXPIRE", "k", "100", "XX"));
        Assert.Equal(":0\r\n", _db.Run("EXPIRE", "k", "100", "GT"));   // no expiry counts as infinite
        Assert.Equal(":1\r\n", _db.Run("EXPIRE", "k", "100", "NX"));
        Assert.Equal(":0\r\n", _db.Run("EXPIRE", "k", "50", "NX"));
        Assert.Equal(":0\r\n", _db.Run("EXPIRE", "k", "50", "GT"));
        Assert.Equal(":1\r\n", _db.Run("EXPIRE", "k", "200", "gt"));
        Assert.Equal(":0\r\n", _db.Run("EXPIRE", "k", "300", "LT"));
        Assert.Equal(":1\r\n", _db.Run("EXPIRE", "k", "20", "LT", "XX"));
        Assert.Equal(":20\r\n", _db.Run("TTL", "k"));
        Assert.Equal("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n", _db.Run("EXPIRE", "k", "1", "NX", "XX"));
        Assert.Equal("-ERR GT and LT options at the same time are not compatible\r\n", _db.Run("EXPIRE", "k", "1", "GT", "LT"));
        Assert.Equal("-ERR Unsupported option FOO\r\n", _db.Run("EXPIRE", "k", "1", "FOO"));
    }

    [Fact]
    public void Flush_and_delete_cancel_their_timeouts()
    {
        _db.Run("SET", "a", "1", "EX", "10");
        _db.Run("SET", "b", "1", "EX", "10");
        Assert.Equal(2, _db.Keyspace.ExpiringCount);
        _db.Run("DEL", "a");
        Assert.Equal(1, _db.Keyspace.ExpiringCount);
        _db.Run("SET", "b", "2");
        Assert.Equal(0, _db.Keyspace.ExpiringCount);
        _db.Run("SET", "c", "1", "EX", "10");
        _db.Run("FLUSHDB");
        Assert.Equal(0, _db.Keyspace.ExpiringCount);
    }

    [Fact]
    public void The_wheel_sweeps_keys_nobody_looks_at_and_never_early()
    {
        using var poll = new Poll();
        using var wheel = new TimerWheel();
        poll.Registry.Register(wheel, (Token)1, Interest.Readable);
        var keyspace = new Keyspace(Clock.Monotonic, wheel);
        long start = keyspace.Now;
        for (int i = 0; i < 50; i++)
        {
            Entry entry = keyspace.GetOrAdd(Resp.Bytes($"k{i}"), out _);
            entry.SetString("v"u8);
            keyspace.SetExpiry(entry, start + 5 + (i % 10));
        }

        Entry keep = keyspace.GetOrAdd("keep"u8, out _);
        keyspace.SetExpiry(keep, start + 60_000);
        var events = new Events(4);
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (keyspace.Count > 1)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{keyspace.Count} keys left after 10 s");
            poll.Wait(events, TimeSpan.FromSeconds(1));
            long before = keyspace.Count;
            long now = keyspace.Now;
            keyspace.SweepExpired();
            if (keyspace.Count < before)
            {
                Assert.True(now > start + 5, "swept before any key was due");
            }
        }

        Assert.Equal(1, keyspace.ExpiringCount);
        Assert.Same(keep, keyspace.Find("keep"u8));
    }

    [Fact]
    public void A_timeout_due_by_the_wheel_but_not_by_the_clock_is_moved_not_acted_on()
    {
        using var poll = new Poll();
        using var wheel = new TimerWheel();
        poll.Registry.Register(wheel, (Token)1, Interest.Readable);
        var events = new Events(4);
        var clock = new ManualClock();
        var keyspace = new Keyspace(clock, wheel);
        Entry entry = keyspace.GetOrAdd("k"u8, out _);
        keyspace.SetExpiry(entry, clock.NowMilliseconds + 1);

        // The wheel's (real) time passes; the keyspace's clock stands still: the key stays, its timeout moves on.
        Assert.Equal(1, poll.Wait(events, TimeSpan.FromSeconds(5)));
        Assert.Equal(0, keyspace.SweepExpired());
        Assert.Same(entry, keyspace.Find("k"u8));
        Assert.Equal(1, wheel.Count);

        clock.Advance(2);
        Assert.Equal(1, poll.Wait(events, TimeSpan.FromSeconds(5)));
        Assert.Equal(1, keyspace.SweepExpired());
        Assert.Equal(0, keyspace.Count);
        Assert.Equal(0, wheel.Count);
    }

    private string Keys(string pattern) => _db.Run("KEYS", pattern);
}

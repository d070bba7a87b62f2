using MiniRedis.Commands;
using MiniRedis.Protocol;
using Polling.Net;

namespace MiniRedis.Server;

/// <summary>One client of the loop: its stream, its protocol state and its queued replies.</summary>
internal sealed class Connection(TcpStream stream, RespLimits limits, long id, int highWaterMark)
{
    public TcpStream Stream { get; } = stream;

    public ClientSession Session { get; } = new(limits, new ClientState(id));

    public OutputQueue Output { get; } = new(highWaterMark);

    /// <summary>The client sent QUIT or broke the protocol: send what is queued, then close.</summary>
    public bool Closing { get; set; }

    /// <summary>The client closed its side (end of stream): send what is queued, then close.</summary>
    public bool PeerDone { get; set; }

    /// <summary>The client's unfinished command passed the query buffer limit: close at once, without a reply.</summary>
    public bool Abort { get; set; }
}

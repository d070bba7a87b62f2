using System.Net.Sockets;
using Polling.Net.Os;
using Polling.Os;

namespace Polling.Net;

/// <summary>
/// <c>ToSocket()</c> of the stream types: moves the descriptor out of a Polling source into a
/// <see cref="Socket"/> without creating or duplicating a descriptor (so it works when the process is out of them).
/// </summary>
internal static class StreamHandoff
{
    public static Socket ToSocket(ref SocketCore core, object owner)
    {
        FdHandle handle = core.Live(owner);
        int fd = handle.Fd;

        // From here on the descriptor belongs to the Socket: the handle must not close it. Close() still
        // deregisters it (EPOLL_CTL_DEL on the still-open descriptor) and marks the source disposed.
        handle.SetHandleAsInvalid();
        core.Close();

        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        try
        {
            // A Socket made from a non-blocking descriptor reports Blocking = false, and its synchronous calls
            // then throw WouldBlock; a NetworkStream refuses it. Blocking is what a Socket normally is.
            socket.Blocking = true;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

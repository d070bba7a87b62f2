namespace Polling.Net;

/// <summary>
/// Who is at the other end of a Unix-domain socket, as the kernel recorded it when the connection (or
/// <see cref="UnixStream.Pair"/>) was made (<c>SO_PEERCRED</c>): process, user and group id. Useful to
/// authorize local clients without passwords.
/// </summary>
/// <param name="ProcessId">The peer's process id; 0 if the peer lives in another PID namespace the kernel cannot map.</param>
/// <param name="UserId">The peer's effective user id.</param>
/// <param name="GroupId">The peer's effective group id.</param>
/// <example>
/// <code>
/// using var listener = UnixListener.Bind("/tmp/app.sock");
/// while (listener.TryAccept(out UnixStream? client))
/// {
///     UnixCredentials peer = client.PeerCredentials;
///     if (peer.UserId != 0) { client.Dispose(); continue; }   // only root may talk to us
///     Console.WriteLine($"root client, pid {peer.ProcessId}");
/// }
/// </code>
/// </example>
public readonly record struct UnixCredentials(int ProcessId, uint UserId, uint GroupId);

namespace MiniRedis.Commands;

/// <summary>What the server remembers about one connection between commands (CLIENT SETNAME, CLIENT ID).</summary>
/// <example>
/// <code>
/// var client = new ClientState(id: 7);
/// executor.Execute(command, client, writer);
/// </code>
/// </example>
public sealed class ClientState(long id)
{
    /// <summary>The connection's id (CLIENT ID): unique for the server's lifetime.</summary>
    public long Id { get; } = id;

    /// <summary>The name set with CLIENT SETNAME, or <see langword="null"/>.</summary>
    public byte[]? Name { get; set; }
}

using System.Text;

namespace MiniRedis.Protocol;

/// <summary>
/// What MiniRedis knows about one command before running it: its name, its arity in redis's convention
/// (<c>n &gt; 0</c>: exactly n arguments counting the name; <c>n &lt; 0</c>: at least −n) and where its keys are
/// (for <c>COMMAND</c>).
/// </summary>
/// <example>
/// <code>
/// CommandSpec get = CommandTable.Find("GET"u8)!;   // get.Arity == 2, get.Name == "get"
/// </code>
/// </example>
public sealed class CommandSpec
{
    internal CommandSpec(CommandKind kind, string name, int arity, string flags, int firstKey, int lastKey, int keyStep)
    {
        Kind = kind;
        Name = name;
        NameBytes = Encoding.ASCII.GetBytes(name);
        Arity = arity;
        Flags = flags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        FirstKey = firstKey;
        LastKey = lastKey;
        KeyStep = keyStep;
    }

    /// <summary>The command.</summary>
    public CommandKind Kind { get; }

    /// <summary>Lower-case name, as redis prints it in errors (<c>'get'</c>).</summary>
    public string Name { get; }

    /// <summary><see cref="Name"/> as ASCII bytes.</summary>
    public byte[] NameBytes { get; }

    /// <summary>redis's arity: exact when positive, a minimum when negative; the name counts.</summary>
    public int Arity { get; }

    /// <summary>redis's command flags (<c>write</c>, <c>readonly</c>, <c>fast</c>, ...), for <c>COMMAND</c>.</summary>
    public IReadOnlyList<string> Flags { get; }

    /// <summary>Position of the first key argument (0 if none).</summary>
    public int FirstKey { get; }

    /// <summary>Position of the last key argument (−1: the last argument).</summary>
    public int LastKey { get; }

    /// <summary>Distance between key arguments.</summary>
    public int KeyStep { get; }

    /// <summary>True if <paramref name="argumentCount"/> (including the name) fits <see cref="Arity"/>.</summary>
    public bool AcceptsArgumentCount(int argumentCount) =>
        Arity > 0 ? argumentCount == Arity : argumentCount >= -Arity;
}

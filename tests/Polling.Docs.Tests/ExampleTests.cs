using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Polling.Docs.Tests;

/// <summary>
/// Every <c>&lt;example&gt;&lt;code&gt;</c> block in Polling.xml and Polling.Net.xml compiles, as the top-level statements
/// of a console program, against the built Polling and Polling.Net. The examples are not run — many are servers that
/// loop forever.
/// </summary>
/// <remarks>
/// What an example may assume without declaring it is <see cref="Prelude"/>: the usings, and the names of the loop an
/// excerpt lives in (<c>poll</c>, <c>registry</c>, <c>events</c>, <c>ev</c>, <c>stream</c>, <c>listener</c>,
/// <c>buffer</c>, <c>running</c>, <c>token</c>, <c>wheel</c>, and a connection's <c>output</c> and <c>peerDone</c>), which its own declarations shadow. Anything else — the
/// user's own types and methods — the example declares (a local function or a type after the statements).
/// </remarks>
public sealed class ExampleTests
{
    private const string Prelude = """
        global using System;
        global using System.Collections.Concurrent;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net;
        global using System.Net.Sockets;
        global using System.Runtime.InteropServices;
        global using System.Text;
        global using System.Threading;
        global using System.Threading.Channels;
        global using System.Threading.Tasks;
        global using Polling;
        global using Polling.Net;
        global using TcpListener = Polling.Net.TcpListener;
        global using static Ambient;

        #pragma warning disable CS8618, CA2211

        // The entry point when an example has no statements, only declarations (otherwise its statements are, CS7022).
        internal static class Entry
        {
            private static void Main()
            {
            }
        }

        internal static class Ambient
        {
            public static Poll poll;
            public static Registry registry;
            public static Events events;
            public static Event ev;
            public static TcpStream stream;
            public static TcpListener listener;
            public static byte[] buffer;
            public static bool running;
            public static Token token;
            public static TimerWheel wheel;
            public static OutputQueue output;
            public static bool peerDone;
        }
        """;

    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => !Path.GetFileName(path).StartsWith("xunit", StringComparison.OrdinalIgnoreCase))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray());

    /// <summary>(assembly, member, block index) for every code block, read from the XML doc files next to the test.</summary>
    public static TheoryData<string, string, int> Examples()
    {
        var data = new TheoryData<string, string, int>();
        foreach ((string assembly, string member, int index, string _) in Blocks())
        {
            data.Add(assembly, member, index);
        }

        return data;
    }

    [Fact]
    public void Both_doc_files_have_examples()
    {
        Assert.Contains(Blocks(), b => b.Assembly == "Polling");
        Assert.Contains(Blocks(), b => b.Assembly == "Polling.Net");
        Assert.True(Blocks().Count() >= 40, $"only {Blocks().Count()} example blocks were found");
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_compiles(string assembly, string member, int index)
    {
        string code = Blocks().Single(b => b.Assembly == assembly && b.Member == member && b.Index == index).Code;
        CSharpCompilation compilation = CSharpCompilation.Create(
            "Example",
            [
                CSharpSyntaxTree.ParseText(Prelude, path: "Prelude.cs"),
                CSharpSyntaxTree.ParseText(code, path: $"{member}.cs"),
            ],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));

        Diagnostic[] errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        Assert.True(errors.Length == 0,
            $"The example of {member} ({assembly}.xml, block {index}) does not compile:\n"
            + string.Join("\n", errors.Select(e => e.ToString()))
            + "\n--- code ---\n" + code);
    }

    private static IEnumerable<(string Assembly, string Member, int Index, string Code)> Blocks()
    {
        foreach (string assembly in new[] { "Polling", "Polling.Net" })
        {
            string file = Path.Combine(AppContext.BaseDirectory, assembly + ".xml");
            foreach (XElement member in XDocument.Load(file).Descendants("member"))
            {
                int index = 0;
                foreach (XElement code in member.Elements("example").Elements("code"))
                {
                    yield return (assembly, member.Attribute("name")!.Value, index++, code.Value);
                }
            }
        }
    }
}

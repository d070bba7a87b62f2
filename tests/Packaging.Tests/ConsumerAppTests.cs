using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Packaging.Tests;

/// <summary>
/// What a new user does first: a fresh <c>dotnet new console</c> app with <c>TreatWarningsAsErrors</c>, the package
/// added as the README's install section says, the README's first example pasted verbatim as Program.cs. It must
/// build with zero warnings (no CA1416), and the program must echo and survive a client that resets.
/// </summary>
[Collection(PackagesCollection.Name)]
public sealed class ConsumerAppTests(PackedPackages packages) : IDisposable
{
    private const string Begin = "<!-- readme-example:begin -->", End = "<!-- readme-example:end -->";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly string _root = Directory.CreateTempSubdirectory("polling-consumer-").FullName;

    [Fact]
    public void The_readme_says_how_long_its_example_is()
    {
        string readme = Readme();
        string[] lines = ExampleCode(readme).Split('\n');
        Match heading = Regex.Match(readme, @"^## An echo server you can keep \((\d+) lines\)", RegexOptions.Multiline);
        Assert.True(heading.Success, "the example's heading should say how many lines it has");
        Assert.Equal(int.Parse(heading.Groups[1].Value), lines.Length);
    }

    [Fact]
    public void The_readme_example_builds_in_a_fresh_console_app_without_warnings_and_survives_a_reset()
    {
        string app = Path.Combine(_root, "App");
        Dotnet.Check("dotnet", "new console -o App --no-restore", _root, TimeSpan.FromMinutes(2));
        Dotnet.Check("dotnet", $"add package Polling.Net --version {packages.Version} --no-restore", app, TimeSpan.FromMinutes(1));

        string project = Path.Combine(app, "App.csproj");
        string csproj = File.ReadAllText(project);
        Assert.Contains("<Nullable>enable</Nullable>", csproj);
        File.WriteAllText(project, csproj.Replace("<Nullable>enable</Nullable>", "<Nullable>enable</Nullable>\n    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>"));
        File.WriteAllText(Path.Combine(app, "Program.cs"), ExampleCode(Readme()) + "\n");

        // A local feed with the packed packages; everything else (Tmds.LibC) from the machine's package folder,
        // so this works offline. A private packages folder keeps the freshly packed 0.1.0 from being cached.
        string machinePackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{Path.Combine(_root, "packages")}" /></config>
              <packageSources><add key="polling-local" value="{packages.Folder}" /></packageSources>
              <fallbackPackageFolders><add key="machine" value="{machinePackages}" /></fallbackPackageFolders>
            </configuration>
            """);

        string build = Dotnet.Check("dotnet", "build -c Release -warnaserror", app, TimeSpan.FromMinutes(4));
        Assert.DoesNotContain("CA1416", build);
        Assert.Matches(@"\b0 Warning\(s\)|Build succeeded\.", build);
        Assert.DoesNotMatch(@"[1-9]\d* Warning\(s\)", build);

        RunAndProbe(Path.Combine(app, "bin", "Release", "net10.0", "App.dll"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static void RunAndProbe(string dll)
    {
        var start = new ProcessStartInfo("dotnet", $"{dll} 0") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var server = Process.Start(start)!;
        var errors = new StringBuilder();
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        server.BeginErrorReadLine();
        try
        {
            Task<string?> first = server.StandardOutput.ReadLineAsync();
            Assert.True(first.Wait(Deadline), "the example did not print 'listening on ...'");
            Match listening = Regex.Match(first.Result ?? "", @"^listening on (.+):(\d+)$");
            Assert.True(listening.Success, $"unexpected first line: {first.Result}");
            var endpoint = new IPEndPoint(IPAddress.Parse(listening.Groups[1].Value), int.Parse(listening.Groups[2].Value));

            using Socket a = Connect(endpoint);
            Echo(a, "hello");

            using (Socket resetter = Connect(endpoint))                     // one client resets ...
            {
                resetter.Send("bye"u8);
                resetter.LingerState = new LingerOption(true, 0);
            }

            using Socket c = Connect(endpoint);                              // ... the loop serves the others
            Echo(c, "still here");
            Echo(a, "and here");
            EchoLarge(c, 4 << 20);                                           // a slow reader: partial writes wait for Writable
            Assert.False(server.HasExited, $"the example exited:\n{errors}");
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
            server.StandardOutput.Dispose(); // Process.Dispose leaves a stream the caller touched open
        }
    }

    private static Socket Connect(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = (int)Deadline.TotalMilliseconds, SendTimeout = (int)Deadline.TotalMilliseconds };
        socket.Connect(endpoint);
        return socket;
    }

    private static void Echo(Socket socket, string text)
    {
        byte[] sent = Encoding.ASCII.GetBytes(text);
        socket.Send(sent);
        var received = new byte[sent.Length];
        for (int total = 0; total < received.Length;)
        {
            int n = socket.Receive(received, total, received.Length - total, SocketFlags.None);
            Assert.True(n > 0, "the server closed the connection");
            total += n;
        }

        Assert.Equal(text, Encoding.ASCII.GetString(received));
    }

    private static void EchoLarge(Socket socket, int length)
    {
        byte[] data = new byte[length];
        new Random(13).NextBytes(data);
        Task sending = Task.Run(() => socket.Send(data));                   // the whole block, while we are slow to read
        var received = new byte[length];
        for (int total = 0; total < length;)
        {
            int n = socket.Receive(received, total, Math.Min(4096, length - total), SocketFlags.None);
            Assert.True(n > 0, "the server closed the connection");
            total += n;
        }

        Assert.True(sending.Wait(Deadline));
        Assert.True(data.AsSpan().SequenceEqual(received), "the echo differs from what was sent");
    }

    private static string Readme() => File.ReadAllText(Path.Combine(Dotnet.RepositoryRoot, "README.md"));

    /// <summary>The C# between the markers, without the ``` fence lines — exactly what a user copies.</summary>
    private static string ExampleCode(string readme)
    {
        int begin = readme.IndexOf(Begin, StringComparison.Ordinal);
        int end = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"README.md must hold the first example between {Begin} and {End}");
        string[] block = readme[(begin + Begin.Length)..end].Trim('\n').Split('\n');
        Assert.Equal("```csharp", block[0]);
        Assert.Equal("```", block[^1]);
        return string.Join('\n', block[1..^1]);
    }
}

using System.IO.Compression;

namespace Packaging.Tests;

/// <summary>
/// Packs Polling and Polling.Net once for the whole test class into a temporary folder (a local feed), from the
/// binaries already built in <see cref="Dotnet.Configuration"/>.
/// </summary>
public sealed class PackedPackages : IDisposable
{
    public PackedPackages()
    {
        Folder = Directory.CreateTempSubdirectory("polling-packages-").FullName;
        foreach (string project in new[] { "src/Poll/Polling.csproj", "src/Net/Polling.Net.csproj" })
        {
            Dotnet.Check("dotnet", $"pack {project} -c {Dotnet.Configuration} --no-build -o {Folder}", Dotnet.RepositoryRoot, TimeSpan.FromMinutes(3));
        }
    }

    /// <summary>The local feed: the .nupkg and .snupkg files.</summary>
    public string Folder { get; }

    public string Version => "0.1.0";

    public string Package(string id) => Path.Combine(Folder, $"{id}.{Version}.nupkg");

    public string Symbols(string id) => Path.Combine(Folder, $"{id}.{Version}.snupkg");

    public static string ReadEntry(ZipArchive archive, string name)
    {
        ZipArchiveEntry entry = archive.GetEntry(name) ?? throw new Xunit.Sdk.XunitException(
            $"no {name} in the package; it has: {string.Join(", ", archive.Entries.Select(e => e.FullName))}");
        using var reader = new StreamReader(entry.Open());
        return reader.ReadToEnd();
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary>The test classes that share one packing (and therefore never pack concurrently).</summary>
[CollectionDefinition(Name)]
public sealed class PackagesCollection : ICollectionFixture<PackedPackages>
{
    public const string Name = "packed packages";
}

using System.IO.Compression;
using System.Reflection.Metadata;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace Packaging.Tests;

/// <summary>Opens the packed .nupkg/.snupkg files and checks what a package consumer and nuget.org see.</summary>
[Collection(PackagesCollection.Name)]
public sealed class PackageMetadataTests(PackedPackages packages, ITestOutputHelper output)
{
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    public static TheoryData<string> Ids => new() { "Polling", "Polling.Net" };

    [Theory]
    [MemberData(nameof(Ids))]
    public void Package_has_license_readme_docs_description_and_symbols(string id)
    {
        using ZipArchive nupkg = ZipFile.OpenRead(packages.Package(id));
        XElement metadata = Nuspec(nupkg, id);

        Assert.Equal("MIT", Element(metadata, "license").Value);
        Assert.Equal("expression", Element(metadata, "license").Attribute("type")?.Value);
        Assert.Equal("README.md", Element(metadata, "readme").Value);
        Assert.Contains("Linux", Element(metadata, "description").Value);

        string readme = PackedPackages.ReadEntry(nupkg, "README.md");
        Assert.Equal(File.ReadAllText(Path.Combine(Dotnet.RepositoryRoot, "README.md")), readme);
        Assert.DoesNotContain("PLACEHOLDER", readme);
        Assert.DoesNotContain("../shared", readme);

        Assert.NotNull(nupkg.GetEntry($"lib/net10.0/{id}.dll"));
        string docs = PackedPackages.ReadEntry(nupkg, $"lib/net10.0/{id}.xml");
        Assert.Contains("<member name=\"T:Polling.", docs);

        using ZipArchive snupkg = ZipFile.OpenRead(packages.Symbols(id));
        Assert.NotNull(snupkg.GetEntry($"lib/net10.0/{id}.pdb"));
    }

    [Fact]
    public void Polling_Net_depends_on_exactly_the_Polling_it_was_built_against()
    {
        // Polling.Net uses Polling's internals (InternalsVisibleTo): a minimum-version range would let NuGet resolve a
        // newer Polling whose internals changed, which fails at run time (MissingMethodException), not at build time.
        using ZipArchive nupkg = ZipFile.OpenRead(packages.Package("Polling.Net"));
        XElement[] dependencies = Nuspec(nupkg, "Polling.Net").Descendants().Where(e => e.Name.LocalName == "dependency").ToArray();
        XElement polling = Assert.Single(dependencies, d => d.Attribute("id")?.Value == "Polling");

        using ZipArchive core = ZipFile.OpenRead(packages.Package("Polling"));
        string version = Element(Nuspec(core, "Polling"), "version").Value;
        Assert.Equal($"[{version}]", polling.Attribute("version")?.Value);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Assembly_is_trimmable_and_does_not_force_the_platform_analyzer_on_consumers(string id)
    {
        using ZipArchive nupkg = ZipFile.OpenRead(packages.Package(id));
        using var dll = new MemoryStream();
        using (Stream entry = nupkg.GetEntry($"lib/net10.0/{id}.dll")!.Open())
        {
            entry.CopyTo(dll);
        }

        dll.Position = 0;
        using var pe = new System.Reflection.PortableExecutable.PEReader(dll);
        MetadataReader reader = pe.GetMetadataReader();
        var attributes = reader.GetAssemblyDefinition().GetCustomAttributes()
            .Select(handle => reader.GetCustomAttribute(handle))
            .Select(attribute => (Type: AttributeTypeName(reader, attribute), Blob: System.Text.Encoding.UTF8.GetString(reader.GetBlobBytes(attribute.Value))))
            .ToList();

        // [SupportedOSPlatform("linux")] on the assembly would raise CA1416 at every call in a consumer's app.
        Assert.DoesNotContain(attributes, a => a.Type == "SupportedOSPlatformAttribute");
        // IsTrimmable (set by IsAotCompatible/IsTrimmable) is what the trimmer and NativeAOT read.
        Assert.Contains(attributes, a => a.Type == "AssemblyMetadataAttribute" && a.Blob.Contains("IsTrimmable") && a.Blob.Contains("True"));
    }

    private static string AttributeTypeName(MetadataReader reader, CustomAttribute attribute)
    {
        EntityHandle type = attribute.Constructor.Kind == HandleKind.MemberReference
            ? reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent
            : reader.GetMethodDefinition((MethodDefinitionHandle)attribute.Constructor).GetDeclaringType();
        return type.Kind == HandleKind.TypeReference
            ? reader.GetString(reader.GetTypeReference((TypeReferenceHandle)type).Name)
            : reader.GetString(reader.GetTypeDefinition((TypeDefinitionHandle)type).Name);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Repository_and_project_url_and_SourceLink_come_from_the_clones_remote(string id)
    {
        (int exit, string remoteOutput) = Dotnet.Run("git", "remote get-url origin", Dotnet.RepositoryRoot, TimeSpan.FromSeconds(30));
        string remote = exit == 0 ? remoteOutput.Trim() : "";

        using ZipArchive nupkg = ZipFile.OpenRead(packages.Package(id));
        XElement metadata = Nuspec(nupkg, id);
        XElement? repository = metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository");
        Assert.Equal("git", repository?.Attribute("type")?.Value);
        Assert.Matches("^[0-9a-f]{40}$", repository?.Attribute("commit")?.Value ?? "");   // the commit is recorded whenever there is git

        if (!Regex.IsMatch(remote, "^(https?|ssh)://|^[^/]+@[^/]+:"))
        {
            output.WriteLine($"The clone has no URL remote ('{remote}'): repository url, project url and SourceLink are left empty (not invented); nothing more to check.");
            Assert.Null(repository?.Attribute("url"));
            return;
        }

        string url = repository!.Attribute("url")?.Value ?? "";
        Assert.False(string.IsNullOrEmpty(url), $"no repository url although origin is {remote}");
        Assert.Equal(Regex.Replace(url, @"\.git$", ""), Element(metadata, "projectUrl").Value);

        using ZipArchive snupkg = ZipFile.OpenRead(packages.Symbols(id));
        using var pdb = new MemoryStream();
        using (Stream entry = snupkg.GetEntry($"lib/net10.0/{id}.pdb")!.Open())
        {
            entry.CopyTo(pdb);
        }

        pdb.Position = 0;
        using var provider = MetadataReaderProvider.FromPortablePdbStream(pdb);
        MetadataReader reader = provider.GetMetadataReader();
        bool hasSourceLink = reader.CustomDebugInformation
            .Select(handle => reader.GetCustomDebugInformation(handle))
            .Any(info => reader.GetGuid(info.Kind) == SourceLinkKind);
        if (Regex.IsMatch(remote, @"github\.com|gitlab\.com|bitbucket\.org|dev\.azure\.com|visualstudio\.com"))
        {
            Assert.True(hasSourceLink, $"{id}.pdb has no SourceLink data although origin is {remote}");
        }
        else
        {
            output.WriteLine($"origin {remote} is not a host the SDK's SourceLink providers know; SourceLink present: {hasSourceLink}.");
        }
    }

    private static XElement Nuspec(ZipArchive nupkg, string id) =>
        XDocument.Parse(PackedPackages.ReadEntry(nupkg, $"{id}.nuspec")).Root!.Elements().Single(e => e.Name.LocalName == "metadata");

    private static XElement Element(XElement metadata, string name) =>
        metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name) ?? throw new Xunit.Sdk.XunitException($"the nuspec has no <{name}>");
}

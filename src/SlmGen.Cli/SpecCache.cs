using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace SlmGen.Cli;

/// <summary>
/// Compiled specs kept on disk between runs of the tool, so that <c>slmgen sample</c>, <c>eval</c> or a sweep's
/// children do not run the generator and Roslyn again on a spec compiled before (≈ 3 s of a 3.5 s start).
/// The key is the SHA-256 of everything the compilation reads — the specs' paths and texts, the device profile's,
/// the build properties, the root namespace — and of the identity (module version id) of the tool's own assemblies,
/// the generator's, the runtime's, TorchSharp's and Roslyn's, every library beside the tool (name, size, time) and
/// the .NET runtime's version, so a rebuilt or updated tool never
/// reads another build's entry. An entry is one JSON file (the assembly image, its SHA-256, the generator's
/// diagnostics as printed) written atomically; one that does not parse, is of another key or whose image does not
/// match its digest is compiled again and replaced. Specs with errors are never stored. Folder:
/// <c>SLMGEN_SPEC_CACHE</c>, else <c>~/.cache/slmgen/specs</c>; <c>SLMGEN_SPEC_CACHE=off</c> turns it off.
/// </summary>
internal static class SpecCache
{
    /// <summary>Entries kept; the least recently used beyond this are deleted when one is written.</summary>
    private const int MaxEntries = 256;

    private const string Format = "slmgen.spec-cache.v1";

    /// <summary>The cache folder, or null when the cache is off.</summary>
    public static string? Folder => Environment.GetEnvironmentVariable("SLMGEN_SPEC_CACHE") switch
    {
        "off" or "0" or "false" => null,
        { Length: > 0 } dir => dir,
        _ => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "slmgen", "specs"),
    };

    /// <summary>The key of one compilation (lower-case hex SHA-256).</summary>
    public static string Key(IReadOnlyList<(string Path, string Text)> specs, string rootNamespace, IReadOnlyDictionary<string, string> properties, (string Path, string Text)? deviceProfile)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string part)
        {
            var bytes = Encoding.UTF8.GetBytes(part);
            sha.AppendData(BitConverter.GetBytes(bytes.Length));
            sha.AppendData(bytes);
        }

        Add(Format);
        Add(Environment.Version.ToString());
        foreach (var type in new[] { typeof(SpecCache), typeof(SlmGen.Generator.Hosting.InMemoryHost), typeof(SlmModel), typeof(TorchSharp.torch), typeof(Microsoft.CodeAnalysis.CSharp.CSharpCompilation), typeof(Microsoft.CodeAnalysis.Compilation) })
        {
            Add(type.Assembly.ManifestModule.ModuleVersionId.ToString());
        }

        // Every managed library beside the tool (the generator's YAML parser among them): name, size and time.
        if (Path.GetDirectoryName(typeof(SpecCache).Assembly.Location) is { Length: > 0 } tool)
        {
            foreach (var dll in new DirectoryInfo(tool).GetFiles("*.dll").OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                Add(dll.Name);
                Add(dll.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
                Add(dll.LastWriteTimeUtc.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        Add(rootNamespace);
        foreach (var (name, value) in properties.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Add(name);
            Add(value);
        }

        Add(specs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var (path, text) in specs)
        {
            Add(path);
            Add(text);
        }

        Add(deviceProfile is { } p ? "profile" : "no profile");
        if (deviceProfile is { } profile)
        {
            Add(profile.Path);
            Add(profile.Text);
        }

        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>The stored image and diagnostics of <paramref name="key"/>, or null (absent, damaged, or the cache off).</summary>
    public static (byte[] Image, IReadOnlyList<string> Diagnostics)? TryRead(string key)
    {
        if (Folder is not { } folder)
        {
            return null;
        }

        var path = Path.Combine(folder, key + ".json");
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            var entry = JsonSerializer.Deserialize<Entry>(File.ReadAllBytes(path));
            if (entry is null || entry.Format != Format || entry.Key != key || entry.Image is null || entry.Diagnostics is null || entry.Sha256 is null)
            {
                return null;
            }

            if (!string.Equals(Convert.ToHexString(SHA256.HashData(entry.Image)), entry.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            TryTouch(path);
            return (entry.Image, entry.Diagnostics);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null; // a damaged or unreadable entry is compiled again (and replaced)
        }
    }

    /// <summary>Stores a compilation; a folder that cannot be written leaves the tool working without the cache.</summary>
    public static void Write(string key, byte[] image, IReadOnlyList<string> diagnostics)
    {
        if (Folder is not { } folder)
        {
            return;
        }

        try
        {
            var entry = new Entry { Format = Format, Key = key, Sha256 = Convert.ToHexString(SHA256.HashData(image)).ToLowerInvariant(), Image = image, Diagnostics = diagnostics.ToList() };
            SlmGen.IO.AtomicFile.Write(Path.Combine(folder, key + ".json"), s => JsonSerializer.Serialize(s, entry));
            Prune(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the cache is an optimisation: the compiled spec is used all the same
        }
    }

    private static void TryTouch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static void Prune(string folder)
    {
        var entries = new DirectoryInfo(folder).GetFiles("*.json");
        if (entries.Length <= MaxEntries)
        {
            return;
        }

        foreach (var old in entries.OrderByDescending(f => f.LastWriteTimeUtc).Skip(MaxEntries))
        {
            try
            {
                old.Delete();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private sealed class Entry
    {
        public string? Format { get; set; }

        public string? Key { get; set; }

        public string? Sha256 { get; set; }

        public byte[]? Image { get; set; }

        public List<string>? Diagnostics { get; set; }
    }
}

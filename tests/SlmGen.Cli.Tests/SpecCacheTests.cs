using System;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;

namespace SlmGen.Cli.Tests;

/// <summary>
/// Compiled specs kept between runs (SpecCache): a second run of the same spec gives exactly the first run's output,
/// diagnostics included, from the stored entry; a changed spec is compiled again; a damaged or foreign entry is
/// never used — the spec is compiled again and the entry replaced; a spec with errors is never stored; and
/// <c>SLMGEN_SPEC_CACHE=off</c> stores nothing.
/// </summary>
public sealed class SpecCacheTests : IDisposable
{
    private const string Spec = """
        name: CachedTiny
        vocab: 65
        context: 32
        embedding: 32
        positions: learned
        layers:
          - transformer: { layers: 1, heads: 2, ffn: 64 }
        final_norm: layernorm
        head: tied
        budget: { max_parameters: 10k }
        """;

    /// <summary>costs' exit status for a design over its budget (this spec is, so that it has a diagnostic to store).</summary>
    private const int OverBudget = 1;

    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private string Cache => Path.Combine(folder.Path, "cache");

    private SlmGenProcess Costs(string spec, string? cache = null) =>
        SlmGenProcess.Run(folder.Path, TimeSpan.FromMinutes(2), new System.Collections.Generic.Dictionary<string, string> { ["SLMGEN_SPEC_CACHE"] = cache ?? Cache }, "costs", spec);

    private string[] Entries() => Directory.Exists(Cache) ? Directory.GetFiles(Cache, "*.json") : Array.Empty<string>();

    [Fact]
    public void A_stored_spec_gives_the_same_output_and_a_damaged_or_foreign_entry_is_compiled_again()
    {
        var spec = folder.File("cached.yaml", Spec);
        using var first = Costs(spec);
        Assert.True(first.ExitCode == OverBudget, first.ToString());
        Assert.Contains("warning SLM0100: CachedTiny has", first.Stderr); // over its budget: the diagnostic is part of what is stored
        var entry = Assert.Single(Entries());

        using var second = Costs(spec);
        Assert.True(second.ExitCode == OverBudget, second.ToString());
        Assert.Equal(first.Stdout, second.Stdout);
        Assert.Equal(first.Stderr, second.Stderr);
        Assert.Single(Entries());

        // The entry is what the second run read: a recognisable change to its stored diagnostics shows in the output.
        var stored = JsonNode.Parse(File.ReadAllText(entry))!;
        var original = File.ReadAllText(entry);
        stored["Diagnostics"]![0] = "marker diagnostic from the stored entry";
        File.WriteAllText(entry, stored.ToJsonString());
        using (var marked = Costs(spec))
        {
            Assert.True(marked.ExitCode == OverBudget, marked.ToString());
            Assert.Contains("marker diagnostic from the stored entry", marked.Stderr);
        }

        // Damage: one flipped byte of the image (its digest no longer matches), a cut file, another key's entry.
        var image = Convert.FromBase64String(JsonNode.Parse(original)!["Image"]!.GetValue<string>());
        image[image.Length / 2] ^= 0x20;
        var flipped = JsonNode.Parse(original)!;
        flipped["Image"] = Convert.ToBase64String(image);
        var foreign = JsonNode.Parse(original)!;
        foreign["Key"] = new string('0', 64);
        foreach (var damaged in new[] { flipped.ToJsonString(), original[..(original.Length / 2)], foreign.ToJsonString(), string.Empty })
        {
            File.WriteAllText(entry, damaged);
            using var again = Costs(spec);
            Assert.True(again.ExitCode == OverBudget, again.ToString());
            Assert.Equal(first.Stdout, again.Stdout);
            Assert.Equal(first.Stderr, again.Stderr);
            Assert.Equal(original, File.ReadAllText(entry)); // replaced by the whole entry again (the compilation is deterministic)
        }

        // A changed spec is another compilation, and its own output.
        File.WriteAllText(spec, Spec.Replace("embedding: 32", "embedding: 48"));
        using (var changed = Costs(spec))
        {
            Assert.True(changed.ExitCode == OverBudget, changed.ToString());
            Assert.NotEqual(first.Stdout, changed.Stdout);
        }

        Assert.Equal(2, Entries().Length);

        // The same text at another path is another entry too (diagnostics and the model's source name the path).
        var moved = folder.File("moved.yaml", Spec);
        using (var elsewhere = Costs(moved))
        {
            Assert.True(elsewhere.ExitCode == OverBudget, elsewhere.ToString());
            Assert.Contains("moved.yaml", elsewhere.Stderr);
            Assert.DoesNotContain("cached.yaml", elsewhere.Stderr);
        }

        Assert.Equal(3, Entries().Length);
    }

    [Fact]
    public void A_spec_with_errors_is_not_stored_and_off_stores_nothing()
    {
        var bad = folder.File("bad.yaml", Spec.Replace("heads: 2", "heads: 3"));
        using (var failed = Costs(bad))
        {
            Assert.Equal(2, failed.ExitCode);
            Assert.Contains("bad.yaml", failed.Stderr);
        }

        Assert.Empty(Entries());

        var spec = folder.File("fine.yaml", Spec);
        using (var off = Costs(spec, cache: "off"))
        {
            Assert.True(off.ExitCode == OverBudget, off.ToString());
        }

        Assert.Empty(Entries());
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "off")));
    }
}

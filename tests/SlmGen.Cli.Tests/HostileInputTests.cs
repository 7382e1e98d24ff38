using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;

namespace SlmGen.Cli.Tests;

/// <summary>
/// Issue 22: damaged, mismatched and special files and hostile sweeps. Every case ends within its time limit
/// (no hang), with a non-zero exit and one "error:" line that names the file, never a stack trace, and never
/// with a damaged or mismatched file silently accepted.
/// </summary>
public sealed class HostileInputTests : IClassFixture<HostileInputTests.Files>
{
    private readonly Files files;

    public HostileInputTests(Files files) => this.files = files;

    /// <summary>One trained checkpoint and exported weights of the tiny spec, and the spec of another model.</summary>
    public sealed class Files : IDisposable
    {
        public Files()
        {
            Spec = Folder.File("tiny.yaml", UninterruptedRun.Spec);
            Other = Folder.File("other.yaml", UninterruptedRun.Spec.Replace("TinySig", "OtherSig").Replace("embedding: 32", "embedding: 48"));
            using var train = SlmGenProcess.Run(Folder.Path, TimeSpan.FromMinutes(3), "train", Spec, "--data", "shakespeare-char", "--steps", "20", "--batch", "4", "--eval-every", "10", "--eval-batches", "1", "--eval-tokens", "500", "--device", "cpu", "--run-dir", Path.Combine(Folder.Path, "run"));
            Assert.True(train.ExitCode == 0, train.ToString());
            Checkpoint = Path.Combine(Folder.Path, "run", "last.ckpt");
            using var export = SlmGenProcess.Run(Folder.Path, TimeSpan.FromMinutes(3), "export", Spec, "--checkpoint", Checkpoint, "--out", Path.Combine(Folder.Path, "export"), "--no-hf");
            Assert.True(export.ExitCode == 0, export.ToString());
            Weights = Path.Combine(Folder.Path, "export", "model.safetensors");
        }

        public TempFolder Folder { get; } = new();

        public string Spec { get; }

        public string Other { get; }

        public string Checkpoint { get; }

        public string Weights { get; }

        public void Dispose() => Folder.Dispose();
    }

    private static void AssertOneErrorLine(SlmGenProcess run, string mentions)
    {
        Assert.True(run.ExitCode is not 0 and not 134, run.ToString());
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), run.ToString());
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.DoesNotContain("Unhandled exception", run.Stderr);
        Assert.Contains(mentions, run.Stderr);
    }

    private SlmGenProcess Slmgen(params string[] args) => SlmGenProcess.Run(files.Folder.Path, TimeSpan.FromSeconds(90), args);

    private string Copy(string path, string name, Func<byte[], byte[]> change)
    {
        var target = Path.Combine(files.Folder.Path, name);
        File.WriteAllBytes(target, change(File.ReadAllBytes(path)));
        return target;
    }

    /// <summary>The header of a safetensors file as text, changed, with the 8-byte length written anew.</summary>
    private static byte[] EditHeader(byte[] file, Func<string, string> edit)
    {
        var n = (int)BitConverter.ToUInt64(file, 0);
        var header = Encoding.UTF8.GetBytes(edit(Encoding.UTF8.GetString(file, 8, n)));
        return BitConverter.GetBytes((ulong)header.Length).Concat(header).Concat(file[(8 + n)..]).ToArray();
    }

    public static TheoryData<string> DamagedCheckpoints => new() { "huge-header-length", "truncated", "empty", "header-only", "zeros", "json-garbage" };

    [Theory]
    [MemberData(nameof(DamagedCheckpoints))]
    public void A_damaged_checkpoint_is_one_error_line_for_eval_sample_and_export(string damage)
    {
        var bad = Copy(files.Checkpoint, damage + ".ckpt", bytes => damage switch
        {
            "huge-header-length" => BitConverter.GetBytes(ulong.MaxValue / 3).Concat(bytes[8..]).ToArray(),
            "truncated" => bytes[..(bytes.Length * 2 / 3)],
            "empty" => Array.Empty<byte>(),
            "header-only" => bytes[..(8 + (int)BitConverter.ToUInt64(bytes, 0))],
            "zeros" => new byte[bytes.Length],
            _ => BitConverter.GetBytes(12UL).Concat(Encoding.ASCII.GetBytes("{\"a\":[1,2,{")).Concat(bytes[20..]).ToArray(),
        });
        // eval, sample and export load weights the same way (Cli.Model): each command takes half of the cases.
        AssertOneErrorLine(damage.Length % 2 == 0
            ? Slmgen("eval", files.Spec, "--checkpoint", bad, "--data", "shakespeare-char", "--device", "cpu")
            : Slmgen("sample", files.Spec, "--checkpoint", bad, "--data", "shakespeare-char", "--tokens", "5", "--device", "cpu"), bad);
    }

    [Fact]
    public void A_float_tensor_declared_as_an_integer_dtype_of_the_same_size_is_refused()
    {
        var relabelled = Copy(files.Weights, "as-int.safetensors", bytes => EditHeader(bytes, h => h.Replace("\"F32\"", "\"I32\"")));
        AssertOneErrorLine(Slmgen("eval", files.Spec, "--checkpoint", relabelled, "--data", "shakespeare-char", "--device", "cpu"), "I32");
    }

    [Fact]
    public void Duplicated_or_overlapping_tensors_are_refused()
    {
        var overlapping = Copy(files.Weights, "overlap.safetensors", bytes => EditHeader(bytes, h =>
        {
            // Point the second tensor at the first one's bytes.
            var doc = System.Text.Json.Nodes.JsonNode.Parse(h)!.AsObject();
            var twins = doc.Where(kv => kv.Key != "__metadata__")
                .GroupBy(kv => kv.Value!["shape"]!.ToJsonString() + kv.Value!["dtype"]!.ToJsonString())
                .First(g => g.Count() >= 2).ToList();
            twins[1].Value!["data_offsets"] = twins[0].Value!["data_offsets"]!.DeepClone();
            return doc.ToJsonString();
        }));
        AssertOneErrorLine(Slmgen("eval", files.Spec, "--checkpoint", overlapping, "--data", "shakespeare-char", "--device", "cpu"), overlapping);
        var duplicated = Copy(files.Weights, "dup.safetensors", bytes => EditHeader(bytes, h =>
        {
            var first = h.IndexOf("},", StringComparison.Ordinal) + 1;
            var entryStart = h.IndexOf('"', 1);
            return h[..(first + 1)] + h[entryStart..first] + "," + h[(first + 1)..];
        }));
        AssertOneErrorLine(Slmgen("eval", files.Spec, "--checkpoint", duplicated, "--data", "shakespeare-char", "--device", "cpu"), duplicated);
    }

    [Fact]
    public void Another_models_weights_or_checkpoint_are_refused_naming_both()
    {
        AssertOneErrorLine(Slmgen("eval", files.Other, "--checkpoint", files.Checkpoint, "--data", "shakespeare-char", "--device", "cpu"), "TinySig");
        AssertOneErrorLine(Slmgen("eval", files.Other, "--checkpoint", files.Weights, "--data", "shakespeare-char", "--device", "cpu"), files.Weights);
    }

    [Fact]
    public void Special_files_are_refused_without_reading_them()
    {
        var fifo = Path.Combine(files.Folder.Path, "fifo");
        using (var mk = Process.Start("mkfifo", fifo))
        {
            mk.WaitForExit();
        }

        AssertOneErrorLine(Slmgen("train", files.Spec, "--data", fifo, "--steps", "1"), "FIFO");
        AssertOneErrorLine(Slmgen("train", files.Spec, "--data", "/dev/zero", "--steps", "1"), "/dev/zero");
        AssertOneErrorLine(Slmgen("costs", "/dev/zero"), "/dev/zero");
        AssertOneErrorLine(Slmgen("costs", fifo), "FIFO");
        AssertOneErrorLine(Slmgen("train", files.Spec, "--data", "shakespeare-char", "--config", "/dev/urandom"), "/dev/urandom");
        AssertOneErrorLine(Slmgen("eval", files.Spec, "--checkpoint", fifo, "--data", "shakespeare-char"), "FIFO");
        AssertOneErrorLine(Slmgen("train", files.Spec, "--data", files.Folder.Path, "--steps", "1"), "directory");
    }

    [Fact]
    public void A_truncated_tokenizer_vocabulary_is_one_error_line()
    {
        var bpe = Path.Combine(files.Folder.Path, "bpe");
        Directory.CreateDirectory(bpe);
        File.WriteAllText(Path.Combine(bpe, "vocab.json"), "{\"a\": 0, \"b\": 1, \"c");
        File.WriteAllText(Path.Combine(bpe, "merges.txt"), "#version: 0.2\na b\n");
        AssertOneErrorLine(Slmgen("train", files.Spec, "--data", "shakespeare-char", "--tokenizer", "bpe:" + bpe, "--steps", "1"), bpe);
    }

    [Fact]
    public void What_the_end_of_a_run_needs_is_checked_before_it_trains()
    {
        var runDir = Path.Combine(files.Folder.Path, "short-eval");
        var run = Slmgen("train", files.Spec, "--data", "shakespeare-char", "--steps", "100000", "--eval-tokens", "20", "--run-dir", runDir, "--device", "cpu");
        AssertOneErrorLine(run, "--eval-tokens 20 is shorter than one window");
        Assert.False(File.Exists(Path.Combine(runDir, "last.ckpt")));
        var small = files.Folder.File("small.txt", string.Concat(Enumerable.Repeat("to be or not ", 20)));
        var spec = files.Folder.File("small-vocab.yaml", UninterruptedRun.Spec.Replace("vocab: 65", "vocab: 7").Replace("context: 32", "context: 64"));
        AssertOneErrorLine(Slmgen("train", spec, "--data", small, "--steps", "100000", "--device", "cpu", "--run-dir", runDir), "validation split has");
    }

    [Fact]
    public void A_spec_named_twice_is_compiled_once_and_reported_for_each_mention()
    {
        // The same file twice, once by another spelling of its path (`slmgen time a.yaml a.yaml` times it twice): it
        // once failed with "An item with the same key has already been added".
        var other = Path.Combine(Path.GetDirectoryName(files.Spec)!, ".", Path.GetFileName(files.Spec));
        using var run = Slmgen("costs", files.Spec, other, "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("same key", run.Stderr + run.Stdout);
        Assert.Contains("TinySig", run.Stdout);
    }

    [Fact]
    public void Arguments_are_checked_before_the_spec_is_compiled()
    {
        // The spec is broken and the data missing: the data is named, so it was checked first.
        var broken = files.Folder.File("broken.yaml", "name: Broken\nvocab: -5\n");
        AssertOneErrorLine(Slmgen("train", broken, "--data", "no-such-file.txt"), "no-such-file.txt");
        AssertOneErrorLine(Slmgen("eval", broken, "--checkpoint", "no-such.ckpt", "--data", "shakespeare-char"), "no-such.ckpt");
    }

    [Fact]
    public void Exports_without_a_form_are_one_error_line_with_the_reason_and_write_nothing()
    {
        var output = Path.Combine(files.Folder.Path, "refused");
        AssertOneErrorLine(Slmgen("export", files.Spec, "--checkpoint", files.Checkpoint, "--out", output, "--gguf", "q8_0"), "embeds the tokenizer");
        AssertOneErrorLine(Slmgen("export", files.Spec, "--checkpoint", files.Checkpoint, "--out", output, "--gguf", "f16", "--data", "ptb"), "the tokenizer has 10,000 tokens, the model 65");
        var flatten = files.Folder.File("flatten.yaml", "name: FlatShip\nvocab: 65\ncontext: 16\nembedding: 16\npositions: learned\nlayers:\n  - flatten: { window: 8 }\n  - dense: { units: 64, activation: relu }\nhead: untied\n");
        AssertOneErrorLine(Slmgen("export", flatten, "--out", output, "--gguf", "f32", "--data", "shakespeare-char"), "has no GGUF form: it has flatten or dense layers");
        using var badType = Slmgen("export", files.Spec, "--checkpoint", files.Checkpoint, "--out", output, "--gguf", "q5");
        Assert.NotEqual(0, badType.ExitCode);
        Assert.Contains("q5", badType.Stderr);
        Assert.False(Directory.Exists(output) && Directory.EnumerateFiles(output, "*.gguf", SearchOption.AllDirectories).Any(), "a refused export wrote a GGUF file");
    }
}

using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using SlmGen.Data;
using SlmGen.Interop;
using SlmGen.Training;
using static TorchSharp.torch;
using SlmGen.IO;

namespace SlmGen.Runtime.Tests;

/// <summary>Safetensors checkpoints: integrity over every byte, resume refusals and overrides, the run log, option validation.</summary>
[HoldTensors]
public class CheckpointTests
{
    private static readonly Lazy<TokenDataset> Shakespeare = TestRuns.Shakespeare;

    private static TrainingOptions Options(string? runDir, long steps = 6) => TestRuns.Quick(runDir, steps);

    private static string TempDir() => TestRuns.TempDir("slmgen-ckpt-");

    /// <summary>A trained run directory (SingleAttention, 6 steps, or stopped at <paramref name="stopAt"/>; checkpoints at every evaluation, every 3 steps).</summary>
    private static string TrainedRun(long? stopAt = null)
    {
        var dir = TempDir();
        Devices.Seed(1);
        using var model = new SingleAttention();
        using var trainer = new Trainer(model, Shakespeare.Value, Options(dir), CPU);
        trainer.Train(maxSteps: stopAt);
        return dir;
    }

    private static int HeaderLength(byte[] file) => (int)BinaryPrimitives.ReadUInt64LittleEndian(file);

    [Fact]
    public void Any_changed_header_byte_is_refused_with_a_message_naming_the_file()
    {
        var path = Path.Combine(TrainedRun(), "last.ckpt");
        var original = File.ReadAllBytes(path);
        var headerEnd = 8 + HeaderLength(original);

        // Every byte of the length prefix and a spread of header bytes (the step, offsets, names, the state's
        // JSON, the digest itself, the padding), and a sample of tensor bytes.
        var positions = Enumerable.Range(0, 8)
            .Concat(Enumerable.Range(8, headerEnd - 8).Where(i => i % 13 == 0))
            .Concat(Enumerable.Range(0, 20).Select(i => headerEnd + (int)((long)(original.Length - headerEnd - 1) * i / 19)))
            .Distinct().ToList();
        var changed = Path.Combine(Path.GetDirectoryName(path)!, "changed.ckpt");
        foreach (var at in positions)
        {
            var bytes = (byte[])original.Clone();
            bytes[at] = bytes[at] == (byte)'7' ? (byte)'8' : (byte)(bytes[at] ^ 0x01);
            File.WriteAllBytes(changed, bytes);
            var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(changed));
            Assert.Contains(changed, ex.Message);
        }

        Assert.True(positions.Count > 100, $"{positions.Count} positions tried");
    }

    [Fact]
    public void The_step_offsets_and_parameter_names_cannot_be_edited_in_the_header()
    {
        var path = Path.Combine(TrainedRun(), "last.ckpt");
        var original = File.ReadAllBytes(path);
        var header = Encoding.UTF8.GetString(original, 8, HeaderLength(original));
        // The attacks of the issue, each keeping the header's length so that only the digest can tell.
        var edits = new (string From, string To)[]
        {
            ("\\u0022step\\u0022:6", "\\u0022step\\u0022:7"),   // the step inside the state JSON (escaped in the metadata string)
            ("\"data_offsets\":[0,", "\"data_offsets\":[4,"), // a shifted tensor
            ("\"wte.weight\"", "\"wte.weighs\""),            // a renamed parameter
        };
        foreach (var (from, to) in edits)
        {
            Assert.Contains(from, header);
            var edited = header.Replace(from, to);
            var bytes = (byte[])original.Clone();
            Encoding.UTF8.GetBytes(edited).CopyTo(bytes, 8);
            var changed = path + ".edited";
            File.WriteAllBytes(changed, bytes);
            Assert.Throws<InvalidDataException>(() => Checkpoint.Load(changed));
        }
    }

    [Fact]
    public void A_checkpoint_is_a_safetensors_file_whose_weights_have_the_models_parameter_names()
    {
        var path = Path.Combine(TrainedRun(), "last.ckpt");
        using var stream = File.OpenRead(path);
        var header = SafetensorsFile.ReadHeader(stream, path);
        Assert.Equal(Checkpoint.FormatTag, header.Metadata[Checkpoint.FormatKey]);
        Assert.Equal("pt", header.Metadata["format"]);
        Assert.Equal(0, header.DataStart % 8);
        using var model = new SingleAttention();
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        var weights = header.Entries.Where(e => !e.Name.StartsWith('_')).ToList();
        Assert.Equal(names.Order(), weights.Select(e => e.Name).Order());
        Assert.All(weights, e => Assert.Equal("F32", e.DType));
        Assert.Contains(header.Entries, e => e.Name.StartsWith(Checkpoint.FirstMomentPrefix, StringComparison.Ordinal));

        var state = Checkpoint.ReadState(path);
        Assert.Equal(6, state.Step);
        Assert.Equal(DatasetIdentity.Of(Shakespeare.Value), state.Dataset);
        Assert.Equal(Options(null).Trajectory(), state.Options);
    }

    [Fact]
    public void Loading_weights_for_inference_gives_the_trained_model()
    {
        var dir = TempDir();
        Devices.Seed(1);
        using var trained = new SingleAttention();
        using (var trainer = new Trainer(trained, Shakespeare.Value, Options(dir), CPU))
        {
            trainer.Train();
        }

        Devices.Seed(77);
        using var fresh = new SingleAttention();
        var state = Checkpoint.LoadWeights(fresh, Path.Combine(dir, "last.ckpt"));
        Assert.Equal(6, state.Step);
        trained.eval();
        fresh.eval();
        using var idx = randint(0, 65, new long[] { 2, 128 }, dtype: ScalarType.Int64);
        Assert.True(trained.call(idx).allclose(fresh.call(idx), 0, 0));

        using var other = new ThreeLayerTransformer();
        Assert.Throws<InvalidOperationException>(() => Checkpoint.LoadWeights(other, Path.Combine(dir, "last.ckpt")));
    }

    [Fact]
    public void Resume_on_other_data_is_refused_unless_overridden_and_the_override_is_recorded()
    {
        var dir = TrainedRun(stopAt: 3);
        var other = Corpora.TinyShakespeare(CharSplit.NanoGpt); // the same vocabulary, another split
        Devices.Seed(2);
        using var model = new SingleAttention();
        using (var trainer = new Trainer(model, other, Options(dir), CPU))
        {
            var ex = Assert.Throws<InvalidOperationException>(() => trainer.Resume(Path.Combine(dir, "last.ckpt")));
            Assert.Contains(Shakespeare.Value.Name, ex.Message);
            Assert.Contains(other.Name, ex.Message);
            Assert.Contains("OtherData", ex.Message);

            trainer.Resume(Path.Combine(dir, "last.ckpt"), ResumeOverrides.OtherData);
            Assert.Equal(3, trainer.Step);
            trainer.Train();
        }

        var resumeRecord = File.ReadAllLines(Path.Combine(dir, RunLog.MetricsFile)).Single(l => l.Contains("\"resume\""));
        Assert.Contains("other data", resumeRecord);
        Assert.Contains(Checkpoint.ReadState(Path.Combine(dir, "last.ckpt")).Overrides, o => o.StartsWith("step 3: other data", StringComparison.Ordinal));
    }

    [Fact]
    public void Resume_with_changed_options_is_refused_unless_overridden()
    {
        var dir = TrainedRun(stopAt: 3);
        foreach (var changed in new[]
                 {
                     Options(dir) with { LearningRate = 1e-3 },
                     Options(dir) with { BatchSize = 3 },
                     Options(dir) with { Seed = 12 },
                     Options(dir, steps: 9),
                 })
        {
            Devices.Seed(2);
            using var model = new SingleAttention();
            using var trainer = new Trainer(model, Shakespeare.Value, changed, CPU);
            var ex = Assert.Throws<InvalidOperationException>(() => trainer.Resume(Path.Combine(dir, "last.ckpt")));
            Assert.Contains("ChangedOptions", ex.Message);
        }

        Devices.Seed(2);
        using var m2 = new SingleAttention();
        using var t2 = new Trainer(m2, Shakespeare.Value, Options(dir) with { LearningRate = 1e-3, LogEvery = 2 }, CPU);
        t2.Resume(Path.Combine(dir, "last.ckpt"), ResumeOverrides.ChangedOptions);
        Assert.Equal(3, t2.Step);
        var record = File.ReadAllLines(Path.Combine(dir, RunLog.MetricsFile)).Single(l => l.Contains("\"resume\""));
        Assert.Contains("learning_rate 0.003 → 0.001", JsonDocument.Parse(record).RootElement.GetProperty("overrides").GetString());
    }

    [Fact]
    public void Metrics_are_utf8_without_a_bom_and_hold_each_step_once_after_a_resume()
    {
        var dir = TempDir();
        Devices.Seed(1);
        using (var model = new SingleAttention())
        using (var trainer = new Trainer(model, Shakespeare.Value, Options(dir, steps: 9) with { CheckpointEvery = 3 }, CPU))
        {
            trainer.Train(maxSteps: 5); // checkpoint at step 3; the log goes on to step 5
        }

        Devices.Seed(1);
        using (var model = new SingleAttention())
        using (var trainer = new Trainer(model, Shakespeare.Value, Options(dir, steps: 9) with { CheckpointEvery = 3 }, CPU))
        {
            trainer.Resume(Path.Combine(dir, "last.ckpt"));
            trainer.Train();
        }

        var bytes = File.ReadAllBytes(Path.Combine(dir, RunLog.MetricsFile));
        Assert.False(bytes.AsSpan().StartsWith(new byte[] { 0xEF, 0xBB, 0xBF }), "metrics.jsonl starts with a BOM");
        var records = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var trainSteps = records.Where(r => r.GetProperty("kind").GetString() == "train").Select(r => r.GetProperty("step").GetInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, 9).Select(i => (long)i), trainSteps);
        Assert.Single(records, r => r.GetProperty("kind").GetString() == "resume");
    }

    [Fact]
    public void A_stale_temporary_file_is_removed_by_the_next_write()
    {
        var dir = TempDir();
        var stale = Path.Combine(dir, ".last.ckpt.deadbeef.tmp");
        File.WriteAllText(stale, "a write killed half-way");
        var unrelated = Path.Combine(dir, ".other.ckpt.deadbeef.tmp");
        File.WriteAllText(unrelated, "another file's");
        Devices.Seed(1);
        using var model = new SingleAttention();
        using var trainer = new Trainer(model, Shakespeare.Value, Options(dir, steps: 3), CPU);
        trainer.Train();
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(unrelated));
        Assert.Empty(Directory.GetFiles(dir, ".last.ckpt.*.tmp"));
    }

    [Fact]
    public void Writers_of_the_same_file_at_the_same_time_all_succeed_and_leave_one_whole_file()
    {
        // Token caches are written by every run that needs them; a sweep starts several at once. A writer must not
        // take another live writer's temporary file for a dead one's.
        var target = Path.Combine(TempDir(), "tokens.safetensors");
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i => AtomicFile.Write(target, s =>
        {
            s.Write(new byte[4096]);
            Thread.Sleep(20);
            s.WriteByte((byte)i);
        }));
        Assert.Equal(4097, new FileInfo(target).Length);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(target)!, "*.tmp"));
    }

    [Fact]
    public void A_dead_writers_temporary_file_goes_and_a_running_writers_stays()
    {
        var dir = TempDir();
        var target = Path.Combine(dir, "tokens.safetensors");
        var dead = Path.Combine(dir, ".tokens.safetensors.2147483646.0badc0de.tmp");
        var running = Path.Combine(dir, $".tokens.safetensors.{Environment.ProcessId}.0badc0de.tmp");
        File.WriteAllText(dead, "killed half-way");
        File.WriteAllText(running, "being written");
        AtomicFile.Write(target, s => s.WriteByte(1));
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(running));
    }

    [Theory]
    [InlineData("batch", "batch size")]
    [InlineData("steps", "Steps")]
    [InlineData("eval", "Evaluate every")]
    [InlineData("lr", "learning rate")]
    [InlineData("minlr", "minimum learning rate")]
    [InlineData("beta2", "beta2")]
    [InlineData("clip", "gradient clip")]
    [InlineData("log", "Log every")]
    [InlineData("patience", "patience")]
    [InlineData("validation", "validation protocol")]
    [InlineData("huge-batch", "more than one tensor can index")]
    public void Every_bad_training_option_gets_a_clear_error(string which, string expected)
    {
        var o = Options(null);
        o = which switch
        {
            "batch" => o with { BatchSize = 0 },
            "steps" => o with { Steps = -5 },
            "eval" => o with { EvalEvery = 0 },
            "lr" => o with { LearningRate = double.NaN },
            "minlr" => o with { MinLearningRate = 1 },
            "beta2" => o with { Optimizer = new AdamWSettings(Beta2: 1.0) },
            "clip" => o with { Optimizer = new AdamWSettings(GradientClip: -1) },
            "log" => o with { LogEvery = 0 },
            "patience" => o with { EarlyStopPatience = -1 },
            "validation" => o with { Validation = EvalProtocol.RandomBatches(0) },
            _ => o with { BatchSize = int.MaxValue / 64 },
        };
        using var model = new SingleAttention();
        var ex = Assert.Throws<ArgumentException>(() => new Trainer(model, Shakespeare.Value, o, CPU));
        Assert.Contains(expected, ex.Message);
    }

    [Theory]
    [InlineData("--batch 1e12", "--batch expects a whole number")]
    [InlineData("--batch 0", "batch size must be at least 1")]
    [InlineData("--eval-every 0", "Evaluate every N steps")]
    [InlineData("--steps -5", "Steps must be at least 1")]
    [InlineData("--steps 2.5", "--steps expects a whole number")]
    [InlineData("--lr abc", "--lr expects a number")]
    [InlineData("--no-such-option 1", "Unknown option")]
    public async System.Threading.Tasks.Task The_samples_command_line_reports_bad_options_in_one_line(string arguments, string expected)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TinyShakespeare.dll");
        var psi = new ProcessStartInfo("dotnet", $"\"{dll}\" {arguments} --device cpu --run-dir \"{TempDir()}\"") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.StartsWith("error: ", stderr);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr); // no stack trace
        GC.KeepAlive(await stdout);
    }

    [Fact]
    public void An_old_format_checkpoint_gets_a_clear_message_and_converts()
    {
        var dir = TrainedRun(stopAt: 3);
        var current = Path.Combine(dir, "last.ckpt");
        using var contents = Checkpoint.Load(current);
        using var model = new SingleAttention();
        var layout = model.named_parameters().Select(p => (p.name, p.parameter.shape)).ToList();

        // An slmgen-checkpoint/1 file as the first format wrote it: magic, header length, JSON header, fp32 flat buffers.
        var old = Path.Combine(dir, "old.ckpt");
        var flat = new Dictionary<string, float[]>();
        foreach (var (name, source) in new[] { ("master", contents.Weights), ("adam.m", contents.FirstMoment), ("adam.v", contents.SecondMoment) })
        {
            flat[name] = layout.SelectMany(l => source[l.name].reshape(-1).data<float>().ToArray()).ToArray();
        }

        var payload = flat.Values.SelectMany(v => MemoryMarshalBytes(v)).ToArray();
        long offset = 0;
        var slots = layout.Select(l => { var s = new { Name = l.name, Offset = offset, Shape = l.shape }; offset += l.shape.Aggregate(1L, (a, b) => a * b); return s; }).ToList();
        long tensorOffset = 0;
        var header = JsonSerializer.SerializeToUtf8Bytes(new
        {
            Format = "slmgen-checkpoint/1",
            Model = contents.State.Model,
            Fingerprint = contents.State.Fingerprint,
            Dataset = "Tiny Shakespeare (vocabulary 65)",
            Step = 3L,
            BestValidation = 4.0,
            BestStep = 3L,
            EvalsSinceBest = 0,
            SamplerRng = 1UL,
            SamplerEpochSeed = 0UL,
            SamplerPosition = 0L,
            SamplerInEpoch = false,
            TorchRngState = "",
            Parameters = slots,
            Tensors = flat.Select(kv => { var t = new { Name = kv.Key, Offset = tensorOffset, Length = (long)kv.Value.Length }; tensorOffset += kv.Value.Length * 4L; return t; }).ToList(),
            PayloadSha256 = Convert.ToHexString(SHA256.HashData(payload)).ToLowerInvariant(),
        });
        File.WriteAllBytes(old, Encoding.ASCII.GetBytes("SLMGENCK").Concat(BitConverter.GetBytes((long)header.Length)).Concat(header).Concat(payload).ToArray());

        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(old));
        Assert.Contains("old format", ex.Message);
        Assert.Contains("ConvertLegacy", ex.Message);

        var converted = Path.Combine(dir, "converted.ckpt");
        Checkpoint.ConvertLegacy(old, converted);
        var state = Checkpoint.LoadWeights(model, converted);
        Assert.Equal(3, state.Step);
        Assert.Null(state.Dataset);
        Assert.True(model.named_parameters().All(p => p.parameter.allclose(contents.Weights[p.name], 0, 0)));

        using var trainer = new Trainer(model, Shakespeare.Value, Options(null), CPU);
        Assert.Throws<InvalidOperationException>(() => trainer.Resume(converted));
        trainer.Resume(converted, ResumeOverrides.OtherData | ResumeOverrides.ChangedOptions);
        Assert.Equal(3, trainer.Step);
    }

    private static byte[] MemoryMarshalBytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return bytes;
    }
}

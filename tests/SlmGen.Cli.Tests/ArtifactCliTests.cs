using System;
using System.IO;
using System.Linq;

namespace SlmGen.Cli.Tests;

/// <summary>
/// Issue 25 and 24 through the command line, as a user runs them: `slmgen train --artifact` writes the stated bytes and
/// scores the round trip; `slmgen artifact` and `slmgen eval --artifact` read it back; damaged artifacts and device
/// profiles are one error line; `slmgen costs --device-profile` predicts and checks time budgets.
/// </summary>
public sealed class ArtifactCliTests : IDisposable
{
    private const string Spec = """
        name: TinyShip
        vocab: 65
        context: 16
        embedding: 32
        positions: rope
        layers:
          - transformer: { layers: 1, heads: 2, ffn: 2x, activation: relu2, norm: rmsnorm, attention_bias: false, ffn_bias: false }
        final_norm: rmsnorm
        head: tied
        quantization: { attention: 5, mlp: 3, embedding: 8, group: 16, method: qat, compression: lzma }
        """;

    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private SlmGenProcess Slmgen(params string[] args) => SlmGenProcess.Run(folder.Path, TimeSpan.FromMinutes(3), args);

    [Fact]
    public void Train_writes_the_stated_artifact_and_eval_artifact_and_profiles_refuse_damage_in_one_line()
    {
        var spec = folder.File("ship.yaml", Spec);
        var run = Path.Combine(folder.Path, "run");
        using (var train = Slmgen("train", spec, "--data", "shakespeare-char", "--steps", "12", "--batch", "4", "--eval-every", "6", "--eval-batches", "1", "--eval-tokens", "400",
                   "--device", "cpu", "--run-dir", run, "--artifact", "--qat-start", "0.5", "--result", Path.Combine(folder.Path, "result.json")))
        {
            Assert.True(train.ExitCode == 0, train.ToString());
            Assert.Contains("equal", train.Stdout);
            Assert.Contains("bits/char before", train.Stdout);
            var result = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, "result.json"))).RootElement;
            Assert.Equal(result.GetProperty("artifact_bytes").GetInt64(), result.GetProperty("artifact_bytes_predicted").GetInt64());
            Assert.True(result.GetProperty("artifact_file_bytes").GetInt64() < result.GetProperty("artifact_bytes").GetInt64(), "lzma made it smaller");
            Assert.True(result.GetProperty("validation_bits_per_character_artifact").GetDouble() > 0);
            // Which execution path ran, as it ran: a CPU run is eager and unfused.
            Assert.False(result.GetProperty("fused_kernels").GetBoolean());
            Assert.Equal(0, result.GetProperty("cuda_graph_steps").GetInt64());
            // Epochs over the training split: input tokens read (steps × batch × context) over the split's tokens.
            var trainTokens = result.GetProperty("train_tokens").GetInt64();
            var read = result.GetProperty("steps").GetInt64() * result.GetProperty("batch").GetInt64() * result.GetProperty("context").GetInt64();
            Assert.True(trainTokens > 0);
            Assert.Equal((double)read / trainTokens, result.GetProperty("epochs").GetDouble(), 9);
            // Both the best-validation weights (the scores above) and the final weights are scored.
            var bestStep = result.GetProperty("best_step").GetInt64();
            var final = result.GetProperty("final_validation_bits_per_byte").GetDouble();
            Assert.True(final > 0);
            Assert.True(bestStep == 12 ? final == result.GetProperty("validation_bits_per_byte").GetDouble() : bestStep == 6, $"best step {bestStep}");
        }

        // The exported decode graph in ONNX Runtime samples the same text as the generated module, past the context too.
        string Sample(string runtime, params string[] extra)
        {
            using var sample = Slmgen(new[] { "sample", spec, "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "shakespeare-char", "--tokens", "40", "--device", "cpu", "--runtime", runtime }.Concat(extra).ToArray());
            Assert.True(sample.ExitCode == 0, sample.ToString());
            return sample.Stdout;
        }

        Assert.Equal(Sample("torchsharp", "--temperature", "0"), Sample("onnx", "--temperature", "0"));
        Assert.Equal(Sample("torchsharp", "--temperature", "0.9", "--top-p", "0.9", "--seed", "3"), Sample("onnx", "--temperature", "0.9", "--top-p", "0.9", "--seed", "3"));

        var artifact = Path.Combine(run, "model.slmq");
        using (var eval = Slmgen("eval", spec, "--checkpoint", Path.Combine(run, "last.ckpt"), "--artifact", artifact, "--data", "shakespeare-char", "--device", "cpu", "--result", Path.Combine(folder.Path, "eval.json")))
        {
            Assert.True(eval.ExitCode == 0, eval.ToString());
            var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, "eval.json"))).RootElement;
            Assert.Equal("lzma", record.GetProperty("artifact").GetProperty("compression").GetString());
            Assert.True(record.GetProperty("before").GetProperty("bits_per_character").GetDouble() > 0 && record.GetProperty("after").GetProperty("bits_per_character").GetDouble() > 0);
        }

        // The same checkpoint shipped under another plan of the same architecture (after-training GPTQ at 4 bits).
        var gptq = folder.File("ship-gptq.yaml", Spec.Replace("name: TinyShip", "name: TinyShipGptq").Replace("attention: 5, mlp: 3, embedding: 8, group: 16, method: qat, compression: lzma", "attention: 4, mlp: 4, method: gptq"));
        using (var ptq = Slmgen("artifact", gptq, "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "shakespeare-char", "--out", Path.Combine(folder.Path, "gptq.slmq"), "--calibration-windows", "8", "--compression", "all"))
        {
            Assert.True(ptq.ExitCode == 0, ptq.ToString());
            Assert.Contains("equal", ptq.Stdout);
            Assert.Contains("brotli", ptq.Stdout);
        }

        // gptq-mse (GPTQ on MSE-searched scales) ships the same checkpoint the same way, at the same stated bytes.
        var gptqMse = folder.File("ship-gptq-mse.yaml", Spec.Replace("name: TinyShip", "name: TinyShipGptqMse").Replace("attention: 5, mlp: 3, embedding: 8, group: 16, method: qat, compression: lzma", "attention: 2, mlp: 2, group: 16, method: gptq-mse"));
        using (var ptq = Slmgen("artifact", gptqMse, "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "shakespeare-char", "--out", Path.Combine(folder.Path, "gptq-mse.slmq"), "--calibration-windows", "8"))
        {
            Assert.True(ptq.ExitCode == 0, ptq.ToString());
            Assert.Contains("equal", ptq.Stdout);
            Assert.Contains("gptq-mse", ptq.Stdout);
        }

        // learned (round to nearest on scales learned on the calibration sample) likewise.
        var learned = folder.File("ship-learned.yaml", Spec.Replace("name: TinyShip", "name: TinyShipLearned").Replace("attention: 5, mlp: 3, embedding: 8, group: 16, method: qat, compression: lzma", "attention: 2, mlp: 2, group: 16, method: learned"));
        using (var ptq = Slmgen("artifact", learned, "--checkpoint", Path.Combine(run, "last.ckpt"), "--data", "shakespeare-char", "--out", Path.Combine(folder.Path, "learned.slmq"), "--calibration-windows", "8", "--device", "cpu"))
        {
            Assert.True(ptq.ExitCode == 0, ptq.ToString());
            Assert.Contains("equal", ptq.Stdout);
            Assert.Contains("learned", ptq.Stdout);
        }

        // Damaged: one error line naming the file, exit 2, no stack trace. Mismatched: the other plan's artifact into this spec.
        var bytes = File.ReadAllBytes(artifact);
        bytes[bytes.Length / 2] ^= 0x10;
        var damaged = Path.Combine(folder.Path, "damaged.slmq");
        File.WriteAllBytes(damaged, bytes);
        foreach (var (file, mentions) in new[] { (damaged, "damaged.slmq"), (Path.Combine(folder.Path, "gptq.slmq"), "TinyShipGptq") })
        {
            using var refused = Slmgen("eval", spec, "--artifact", file, "--data", "shakespeare-char", "--device", "cpu");
            Assert.Equal(2, refused.ExitCode);
            var lines = refused.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length >= 1 && lines[0].StartsWith("error: ", StringComparison.Ordinal), refused.ToString());
            Assert.Contains(mentions, refused.Stderr);
            Assert.DoesNotContain("   at ", refused.Stderr);
        }

        using (var neither = Slmgen("eval", spec, "--data", "shakespeare-char"))
        {
            Assert.Equal(2, neither.ExitCode);
            Assert.Contains("--artifact", neither.Stderr);
        }

        // Time: a profile from calibrate predicts; a damaged profile is one error line.
        var profile = Path.Combine(folder.Path, "cpu.json");
        using (var calibrate = Slmgen("calibrate", "--device", "cpu", "--quick", "--out", profile))
        {
            Assert.True(calibrate.ExitCode == 0, calibrate.ToString());
            // The launch figures are the ones measured inside SlmGen's layers (reference models), not the one-element kernels'.
            var line = calibrate.Stdout.Split('\n').Single(l => l.StartsWith("in SlmGen's layers", StringComparison.Ordinal));
            var written = SlmGen.Timing.ProfileFile.Read(profile);
            Assert.Contains($"a kernel {written.LaunchSeconds * 1e6:0.0} µs through autograd", line);
            Assert.Contains($"{written.NoGradLaunchSeconds * 1e6:0.0} µs without", line);
            Assert.Contains($"a training step {written.StepSeconds * 1e6:0} µs and a token {written.TokenSeconds * 1e6:0} µs", line);

            // A CPU's bandwidth is the one measured inside SlmGen's layers (time model v11), the large copy's kept apart —
            // or, where no bandwidth predicts the reference models' steps (a quick calibration's few shapes can do that),
            // the copy's alone, and the line says so.
            var bandwidth = calibrate.Stdout.Split('\n').Single(l => l.StartsWith("memory-bound kernels in SlmGen's layers", StringComparison.Ordinal));
            if (written.CopyBandwidthBytesPerSecond > 0)
            {
                Assert.Contains($"layers: {written.BandwidthBytesPerSecond / 1e9:0.0} GB/s (a large copy into a fresh tensor: {written.CopyBandwidthBytesPerSecond / 1e9:0.0} GB/s)", bandwidth);
                Assert.True(written.BandwidthBytesPerSecond is > SlmGen.Timing.DeviceCalibration.LowestBandwidth and < SlmGen.Timing.DeviceCalibration.HighestBandwidth, bandwidth);
            }
            else
            {
                Assert.Contains($"the large copy's {written.BandwidthBytesPerSecond / 1e9:0.0} GB/s is kept", bandwidth);
            }
        }

        var timed = folder.File("timed.yaml", Spec.Replace("name: TinyShip", "name: TinyTimed") + "\nbudget: { training_tokens: 1G, max_training_time: 1m }\n");
        using (var costs = Slmgen("costs", timed, "--device-profile", profile, "--batch", "8"))
        {
            // Over its time budget: the warning, the budget line marked OVER, and exit status 1 as for any budget (docs/cli.md).
            Assert.True(costs.ExitCode == 1, costs.ToString());
            Assert.Contains("training step at batch 8", costs.Stdout);
            Assert.Contains("SLM0108", costs.Stderr + costs.Stdout);
            Assert.Matches(@"budget training_seconds: [\d,]+ of 60 \([\d,.]+ %\) OVER", costs.Stdout);
        }

        // --graphed: the budget assumes the graphed step (a CPU profile measures no graph replay, so only the launches go:
        // a shorter run), and the warning says which step it assumed; without a profile it is one error line.
        using (var graphed = Slmgen("costs", timed, "--device-profile", profile, "--batch", "8", "--graphed"))
        {
            static double Seconds(string stdout) => double.Parse(System.Text.RegularExpressions.Regex.Match(stdout, @"budget training_seconds: ([\d,]+) of").Groups[1].Value.Replace(",", string.Empty), System.Globalization.CultureInfo.InvariantCulture);
            using var eager = Slmgen("costs", timed, "--device-profile", profile, "--batch", "8");
            Assert.True(Seconds(graphed.Stdout) < Seconds(eager.Stdout), graphed.Stdout);
            Assert.Contains("each step one CUDA graph", graphed.Stderr + graphed.Stdout);
            Assert.DoesNotContain("each step one CUDA graph", eager.Stderr + eager.Stdout);
        }

        using (var noProfile = Slmgen("costs", timed, "--graphed"))
        {
            Assert.True(noProfile.ExitCode == 2, noProfile.ToString());
            Assert.Contains("need --device-profile", noProfile.Stderr);
        }

        // With --json the predictions are part of the one JSON document (no tables after it); --device is --device-profile's short form.
        using (var costsJson = Slmgen("costs", timed, "--device", profile, "--batch", "8", "--json"))
        {
            Assert.True(costsJson.ExitCode == 0, costsJson.ToString());
            var time = System.Text.Json.JsonDocument.Parse(costsJson.Stdout).RootElement.GetProperty("models")[0].GetProperty("time");
            Assert.Equal(8, time.GetProperty("batch").GetInt32());
            Assert.True(time.GetProperty("eagerMsPerStep").GetDouble() > 0);
            Assert.True(time.GetProperty("decode").GetProperty("msPerToken").GetDouble() > 0);
            Assert.NotEmpty(time.GetProperty("components").EnumerateArray());
        }

        // Decoding latency measured beside its prediction (one JSON record with both); --graphed needs CUDA: one error line.
        var records = Path.Combine(folder.Path, "decode.jsonl");
        // --check-host first times the calibration's reference models (as calibrate does, the median of their costs) and
        // sets this host's cost per decoding kernel beside the profile's, in the output and in each record. Like for like:
        // every reference model at both depths (session 25: one model alone, whose decoding costs twice the median per
        // kernel on this CPU, reported a host 2.4× slower a minute after its calibration).
        foreach (var decoding in new[] { true, false })
        {
            var checkedSpecs = SlmGen.Cli.HostCheck.Specs(decoding);
            Assert.Equal(2 * SlmGen.Cli.Commands.CalibrateCommand.ReferenceModels.Length, checkedSpecs.Count);
            var calibrated = Enumerable.Range(0, SlmGen.Cli.Commands.CalibrateCommand.ReferenceModels.Length).SelectMany(SlmGen.Cli.Commands.CalibrateCommand.ReferenceSpecs).ToList();
            Assert.All(checkedSpecs, s => Assert.Contains(s, calibrated));
            Assert.Equal(checkedSpecs.Count, checkedSpecs.Select(s => s.Path).Distinct().Count());
            Assert.All(Enumerable.Range(0, SlmGen.Cli.Commands.CalibrateCommand.ReferenceModels.Length), i => Assert.Contains(checkedSpecs, s => s.Path.Contains($"reference{i}", StringComparison.Ordinal)));
        }

        using (var decode = Slmgen("time", timed, "--decode", "--prompt-tokens", "4", "--new-tokens", "6", "--device", "cpu", "--device-profile", profile, "--json", records, "--check-host"))
        {
            Assert.True(decode.ExitCode == 0, decode.ToString());
            var record = System.Text.Json.JsonDocument.Parse(File.ReadAllLines(records).Single()).RootElement;
            Assert.Equal("decode", record.GetProperty("mode").GetString());
            Assert.Equal(4, record.GetProperty("prompt_tokens").GetInt32());
            Assert.True(record.GetProperty("ms_per_token").GetDouble() > 0);
            Assert.True(record.GetProperty("predicted_ms_per_token").GetDouble() > 0);
            Assert.True(record.GetProperty("predicted_prefill_ms").GetDouble() > 0);
            var measuredProfile = SlmGen.Timing.ProfileFile.Read(profile);
            var now = record.GetProperty("host_kernel_us").GetDouble();
            Assert.True(now > 0, decode.ToString());
            Assert.Equal(now / (measuredProfile.Launch(autograd: false) * 1e6), record.GetProperty("host_ratio").GetDouble(), 9);
            Assert.Contains("host check: a kernel", decode.Stdout);
        }

        // A prediction only for what could be measured: lengths beyond the context are the same one-line error either way.
        foreach (var predictOnly in new[] { true, false })
        {
            var lengths = new[] { "time", timed, "--decode", "--device", "cpu", "--device-profile", profile, "--prompt-tokens", "100000" };
            using var beyond = Slmgen(predictOnly ? lengths.Append("--predict-only").ToArray() : lengths);
            Assert.True(beyond.ExitCode == 2, beyond.ToString());
            Assert.StartsWith("error: ", beyond.Stderr, StringComparison.Ordinal);
            Assert.Contains("a prompt of at most", beyond.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("| ", beyond.Stdout, StringComparison.Ordinal); // no table row with a figure for it
        }

        // --kernel-trace runs its traces after every model has been timed (a started profiler slows every later launch):
        // where it cannot trace, it is refused before anything is timed — no table, no record, no trace.
        foreach (var mode in new[] { "--decode", "--steps" })
        {
            var traces = Path.Combine(folder.Path, "traces" + mode);
            var traceRecords = Path.Combine(folder.Path, "traced" + mode + ".jsonl");
            var args = new[] { "time", timed, timed, "--device", "cpu", "--kernel-trace", traces, "--json", traceRecords, mode };
            using var noTrace = Slmgen(mode == "--steps" ? args.Append("1").ToArray() : args.Concat(new[] { "--prompt-tokens", "4", "--new-tokens", "4" }).ToArray());
            Assert.True(noTrace.ExitCode == 2, noTrace.ToString());
            Assert.StartsWith("error: --kernel-trace needs CUDA", noTrace.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", noTrace.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(traceRecords), noTrace.ToString());
            Assert.Empty(Directory.Exists(traces) ? Directory.GetFiles(traces) : Array.Empty<string>());
        }

        using (var checkWithoutRun = Slmgen("time", timed, "--predict-only", "--device-profile", profile, "--check-host"))
        {
            Assert.Equal(2, checkWithoutRun.ExitCode);
            Assert.StartsWith("error: ", checkWithoutRun.Stderr);
            Assert.Contains("--check-host", checkWithoutRun.Stderr);
        }

        using (var graphed = Slmgen("time", timed, "--graphed", "--device", "cpu", "--steps", "1"))
        {
            Assert.NotEqual(0, graphed.ExitCode);
            Assert.StartsWith("error: ", graphed.Stderr);
            Assert.Contains("not CUDA", graphed.Stderr);
            Assert.DoesNotContain("   at ", graphed.Stderr);
        }

        // Predictions only (nothing run, so --graphed needs no CUDA): the record has the prediction and no measurement.
        var predicted = Path.Combine(folder.Path, "predicted.jsonl");
        using (var only = Slmgen("time", timed, "--graphed", "--predict-only", "--device-profile", profile, "--batch", "4", "--json", predicted))
        {
            Assert.True(only.ExitCode == 0, only.ToString());
            var record = System.Text.Json.JsonDocument.Parse(File.ReadAllLines(predicted).Single()).RootElement;
            Assert.Equal(System.Text.Json.JsonValueKind.Null, record.GetProperty("ms_per_step").ValueKind);
            Assert.True(record.GetProperty("predicted_ms_per_step").GetDouble() > 0);
            Assert.True(record.GetProperty("graphed").GetBoolean());
        }

        using (var noProfile = Slmgen("time", timed, "--predict-only"))
        {
            Assert.Equal(2, noProfile.ExitCode);
            Assert.StartsWith("error: ", noProfile.Stderr);
            Assert.Contains("--device-profile", noProfile.Stderr);
        }

        File.WriteAllText(profile, "{ \"device\": 3 }");
        using (var bad = Slmgen("costs", spec, "--device-profile", profile))
        {
            Assert.Equal(2, bad.ExitCode);
            Assert.StartsWith("error: ", bad.Stderr);
            Assert.Contains("cpu.json", bad.Stderr);
        }
    }
}

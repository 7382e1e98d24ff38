using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using SlmGen.Samples.Study;

namespace SlmGen.Samples.StudyReport;

/// <summary>One JSON line of scripts/gpu/study_torch.py: a PyTorch run of the study's protocol, or a FLOP count.</summary>
internal sealed record TorchLine(
    string Kind, string Variant, string Experiment, string Model, long Seed, double TestNll, long Params,
    long FlopsForwardPerWindow, long FlopsTrainPerWindow, int Causal, int EmbeddingDropout, int FfnDropout, int CloneInit, string Amp)
{
    public static IEnumerable<TorchLine> LoadAll(string dir) =>
        !Directory.Exists(dir)
            ? Enumerable.Empty<TorchLine>()
            : Directory.GetFiles(dir, "*.jsonl", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal)
                .SelectMany(File.ReadLines)
                .Where(l => l.Trim().Length > 0)
                .Select(Parse)
                .Where(l => l is not null)
                .Select(l => l!);

    private static TorchLine? Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var e = doc.RootElement;
        if (e.TryGetProperty("error", out _))
        {
            return null;
        }

        string S(string name) => e.TryGetProperty(name, out var v) ? v.GetString() ?? "" : "";
        long L(string name) => e.TryGetProperty(name, out var v) ? v.GetInt64() : 0;
        double D(string name) => e.TryGetProperty(name, out var v) ? v.GetDouble() : double.NaN;
        return new TorchLine(S("kind"), S("variant"), S("experiment"), S("model"), L("seed"), D("test_nll"), L("params"),
            L("flops_fwd_per_window"), L("flops_train_per_window"), (int)L("causal"), (int)L("emb_dropout"), (int)L("ffn_dropout"),
            (int)L("clone_init"), S("amp"));
    }
}

/// <summary>The report's sections that set SlmGen's runs beside other evidence: PyTorch, earlier readings, FLOP counts, baby GPT.</summary>
internal static class ReferenceSections
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static string F(double v, string f = "0.0000") => Stats.F(v, f);

    private static string MeanSd(IReadOnlyCollection<double> xs) => Stats.MeanSd(xs);

    /// <summary>SlmGen against the same protocol written in PyTorch, under the current and the earlier dropout reading.</summary>
    public static void PyTorchComparison(
        StringBuilder md,
        IReadOnlyList<TorchLine> torch,
        Dictionary<(string Experiment, string Model), List<RunRecord>> groups,
        Dictionary<(string Experiment, string Model), List<RunRecord>> earlier,
        IEnumerable<string> experimentOrder)
    {
        var runs = torch.Where(t => t.Kind == "run").ToList();
        if (runs.Count == 0)
        {
            return;
        }

        md.AppendLine("## Is a gap SlmGen's? The same protocol written directly in PyTorch");
        md.AppendLine();
        md.AppendLine("`scripts/gpu/study_torch.py` builds the character models the way a PyTorch notebook most plausibly would " +
                      "(`nn.TransformerEncoderLayer` blocks, `nn.Embedding` positions, a final LayerNorm, the head on the last position) and trains them " +
                      "with the same protocol, in fp32, on the same GPU model (records in `results/torch-reference/`). *Study reading* is the dropout placement " +
                      "the specs now declare (inside the blocks and their FFN, none on the embeddings); *earlier reading* is the one SlmGen's first runs used " +
                      "(dropout on the embeddings, none inside the FFN, each layer initialised on its own), kept in `results/readings-embedding-dropout/`. " +
                      "SlmGen trains in bf16 over fp32 master weights.");
        md.AppendLine();
        md.AppendLine("| experiment | model | study | SlmGen | PyTorch, same reading | SlmGen − PyTorch | SlmGen, earlier reading | PyTorch, earlier reading |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var experiment in experimentOrder)
        {
            foreach (var key in groups.Keys.Where(k => k.Experiment == experiment).OrderBy(k => groups[k][0].Parameters).ThenBy(k => k.Model, StringComparer.Ordinal))
            {
                var ours = groups[key].Select(r => r.TestNll).ToList();
                var same = runs.Where(t => t.Variant == "canonical" && t.Experiment == key.Experiment && t.Model == key.Model).Select(t => t.TestNll).ToList();
                var before = earlier.TryGetValue(key, out var e) ? e.Select(r => r.TestNll).ToList() : new List<double>();
                var torchBefore = runs.Where(t => t.Variant == "slmgen-like" && t.Experiment == key.Experiment && t.Model == key.Model).Select(t => t.TestNll).ToList();
                var diff = same.Count > 0 ? ours.Average() - same.Average() : double.NaN;
                md.AppendLine($"| {key.Experiment} | {key.Model} | {F(groups[key][0].StudyNll)} | {MeanSd(ours)} | {MeanSd(same)} | " +
                              $"{(double.IsNaN(diff) ? "–" : (diff >= 0 ? "+" : "−") + Math.Abs(diff).ToString("0.000", Inv))} | {MeanSd(before)} | {MeanSd(torchBefore)} |");
            }
        }

        md.AppendLine();

        // The readings tried on one seed.
        var columns = new[] { ("ladder-mlp", "CharMlp"), ("ladder-transformer", "CharTransformer"), ("sweep-attention-heads", "CharAttention"), ("sweep-transformer-layers", "CharTransformer") };
        var probe = runs.Where(t => t.Seed == 689).GroupBy(t => t.Variant)
            .Where(g => columns.Count(c => g.Any(t => t.Experiment == c.Item1 && t.Model == c.Item2)) >= 3).ToList();
        if (probe.Count > 1)
        {
            md.AppendLine("Readings of the study's description tried in PyTorch on seed 689 (test NLL):");
            md.AppendLine();
            md.AppendLine("| variant | causal mask | embedding dropout | FFN dropout | layers start | precision | " + string.Join(" | ", columns.Select(c => $"{c.Item1} {c.Item2}")) + " |");
            md.AppendLine("|---|---|---|---|---|---|" + string.Concat(columns.Select(_ => "---:|")));
            foreach (var g in probe.OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var t0 = g.First();
                var cells = columns.Select(c => g.Where(t => t.Experiment == c.Item1 && t.Model == c.Item2).Select(t => F(t.TestNll)).FirstOrDefault() ?? "–");
                md.AppendLine($"| {g.Key} | {(t0.Causal == 1 ? "yes" : "no")} | {(t0.EmbeddingDropout == 1 ? "yes" : "no")} | {(t0.FfnDropout == 1 ? "yes" : "no")} | " +
                              $"{(t0.CloneInit == 1 ? "equal (deep copies)" : "independent")} | {t0.Amp} | {string.Join(" | ", cells)} |");
            }

            md.AppendLine();
        }
    }

    /// <summary>SlmGen's compile-time counts beside PyTorch's FlopCounterMode, measured on the GPU machine.</summary>
    public static void FlopCrossCheck(StringBuilder md, IReadOnlyList<TorchLine> torch, IEnumerable<RunRecord> records)
    {
        var ours = records.Where(r => r.Objective == "LastPosition" && r.Windows > 0)
            .GroupBy(r => r.Model).ToDictionary(g => g.Key, g => g.First());
        var counts = torch.Where(t => t.Kind == "flops").GroupBy(t => t.Model).Select(g => g.Last()).ToList();
        if (counts.Count == 0)
        {
            return;
        }

        md.AppendLine("## SlmGen's FLOP counts against PyTorch's");
        md.AppendLine();
        md.AppendLine("Training FLOPs (forward + backward) per window of the study's objective (the body at every position, the head on the last one): " +
                      "SlmGen's compile-time count as its runs recorded it (exact training FLOPs / windows), and PyTorch's `torch.utils.flop_counter.FlopCounterMode` " +
                      "on the models of `scripts/gpu/study_torch.py` (forward FLOPs too; `SampleModelCostTests` checks both against the generated constants).");
        md.AppendLine();
        md.AppendLine("| model | parameters, SlmGen | parameters, PyTorch | training FLOPs per window, SlmGen | training FLOPs per window, PyTorch | forward, PyTorch | equal |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var t in counts)
        {
            if (!ours.TryGetValue(t.Model, out var r))
            {
                continue;
            }

            var train = (long)Math.Round(r.ExactTrainingFlops / r.Windows);
            var equal = train == t.FlopsTrainPerWindow && r.Parameters == t.Params;
            md.AppendLine($"| {t.Model} | {r.Parameters:N0} | {t.Params:N0} | {train:N0} | {t.FlopsTrainPerWindow:N0} | {t.FlopsForwardPerWindow:N0} | {(equal ? "yes" : "**no**")} |");
        }

        md.AppendLine();
    }

    /// <summary>Every run of nanoGPT's baby GPT.</summary>
    public static void BabyGpt(StringBuilder md, IEnumerable<RunRecord> records)
    {
        var runs = records.Where(r => r.Experiment == "babygpt").OrderBy(r => r.Timestamp, StringComparer.Ordinal).ToList();
        if (runs.Count == 0)
        {
            return;
        }

        md.AppendLine("## nanoGPT's baby GPT");
        md.AppendLine();
        md.AppendLine("nanoGPT's recipe (`Study babygpt`; see [speed.md](speed.md)); nanoGPT reports a best validation loss of 1.4697 after about 3 minutes on an A100. " +
                      "Validation every 250 steps on the whole validation split; *estimate* is nanoGPT's own measure (200 random batches) of the restored best weights.");
        md.AppendLine();
        md.AppendLine("| run (UTC) | device | commit | best validation NLL | at step | estimate | ≤ 1.47 after (s) | tokens/s |");
        md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            md.AppendLine($"| {r.Timestamp} | {r.Device} | {(r.Commit.Length >= 10 ? r.Commit[..10] : r.Commit)} | {F(r.BestValidationNll)} | {r.BestStep:N0} | {F(r.TestNll)} | " +
                          $"{(double.IsNaN(r.Seconds) ? "not reached" : F(r.Seconds, "0.0"))} | {r.TokensPerSecond:N0} |");
        }

        md.AppendLine();
    }
}

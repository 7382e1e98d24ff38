using System;
using System.IO;
using System.Linq;
using SlmGen.Samples.LabReport;
using YamlDotNet.RepresentationModel;

namespace SlmGen.Runtime.Tests;

/// <summary>The second lab's statistics and learning-rate selection (results/lab2/PROTOCOL.md §3, §5), on worked examples.</summary>
public class LabStatisticsTests
{
    [Fact]
    public void Paired_and_Welch_intervals_Holm_and_the_detectable_difference_match_worked_examples()
    {
        // d = 0.02, 0.01, 0.03, 0.01, 0.03: mean 0.02, sd 0.01, se 0.01/√5; t(0.975, 4) = 2.776445.
        var paired = PairedStatistics.Paired(new[] { 1.60, 1.62, 1.59, 1.61, 1.63 }, new[] { 1.58, 1.61, 1.56, 1.60, 1.60 });
        Assert.Equal(0.02, paired.Mean, 10);
        Assert.Equal(0.02 - 2.776445 * 0.01 / Math.Sqrt(5), paired.Low, 6);
        Assert.Equal(0.02 + 2.776445 * 0.01 / Math.Sqrt(5), paired.High, 6);
        Assert.Equal(0.01106, paired.P, 4); // t = 4.472 on 4 degrees of freedom
        Assert.True(paired.Excludes0 && !paired.EquivalentWithin(0.01) && paired.EquivalentWithin(0.05));

        // Welch: variances 5/3 and 4 over 4 and 3 values; Welch–Satterthwaite df = 1.75² / ((5/12)²/3 + (4/3)²/2) = 3.2347.
        var welch = PairedStatistics.Welch(new[] { 1.0, 2, 3, 4 }, new[] { 2.0, 4, 6 });
        Assert.Equal(-1.5, welch.Mean, 10);
        Assert.Equal(3.2347, welch.DegreesOfFreedom, 3);
        Assert.False(welch.Excludes0);

        Assert.Equal(new[] { 0.03, 0.06, 0.06 }, PairedStatistics.Holm(new[] { 0.01, 0.04, 0.03 }).Select(p => Math.Round(p, 10)));
        Assert.Equal(1 - 0.05 / 4, PairedStatistics.SimultaneousLevel(4), 12);
        // (t(0.975, 4) + t(0.8, 4)) · 0.01 / √5 = (2.776445 + 0.940965) · 0.004472.
        Assert.Equal((2.776445 + 0.940965) * 0.01 / Math.Sqrt(5), PairedStatistics.MinimumDetectable(0.01, 5), 5);
        Assert.Throws<ArgumentException>(() => PairedStatistics.Paired(new[] { 1.0, 2 }, new[] { 1.0 }));
    }

    [Fact]
    public void The_learning_rate_of_each_design_is_its_best_final_validation_score_and_the_seed_sweep_keeps_its_values()
    {
        var dir = TestRuns.TempDir("slmgen-lab2-");
        File.WriteAllText(Path.Combine(dir, "base.yaml"), "name: B\n");
        var tune = Path.Combine(dir, "q-tune.yaml");
        File.WriteAllText(tune, "base: base.yaml\ngrid:\n  embedding: [128, 256]\n  train.lr: [1e-3, 2e-3]\nseeds: [1]\ntrain: { data: wikitext2, flops: 3e13, batch: 32 }\nout: runs/q-tune\n");
        var runs = Path.Combine(dir, "runs", "q-tune");
        var points = new[]
        {
            ("128", "tied", "1e-3", 1.70), ("128", "tied", "2e-3", 1.65),
            ("256", "{ tied: true, softcap: 30 }", "1e-3", 1.60), ("256", "{ tied: true, softcap: 30 }", "2e-3", 1.62),
        };
        var lines = points.Select((p, i) =>
        {
            Directory.CreateDirectory(Path.Combine(runs, $"p{i:D3}", "s1"));
            // The final weights' score is the one chosen on; the best checkpoint's (validation_bits_per_byte) is not.
            File.WriteAllText(Path.Combine(runs, $"p{i:D3}", "s1", "result.json"), $"{{\"validation_bits_per_byte\": 1.0, \"final_validation_bits_per_byte\": {p.Item4}}}");
            return System.Text.Json.JsonSerializer.Serialize(new { point = i, status = "done", values = new System.Collections.Generic.Dictionary<string, string> { ["embedding"] = p.Item1, ["head"] = p.Item2, ["train.lr"] = p.Item3 }, train = new { lr = p.Item3 } });
        }).ToList();
        File.WriteAllLines(Path.Combine(runs, "results.jsonl"), lines);

        var designs = LearningRateSelection.Select(tune);
        Assert.Equal(2, designs.Count);
        Assert.Equal(2e-3, designs.Single(d => d.Values["embedding"] == "128").Chosen);
        Assert.Equal(1e-3, designs.Single(d => d.Values["embedding"] == "256").Chosen);
        Assert.All(designs, d => Assert.True(d.AtEdge));

        var seeds = Path.Combine(dir, "q-seeds.yaml");
        LearningRateSelection.WriteSeedSweep(tune, designs, new long[] { 1, 2, 3, 4, 5 }, seeds, "runs/q-seeds");
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(seeds)));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("base.yaml", root["base"].ToString());
        var axis = (YamlMappingNode)root["grid"];
        var (key, rows) = axis.Children.Single();
        Assert.Equal("embedding, head, train.lr", key.ToString());
        var softcapped = ((YamlSequenceNode)rows).Children.Cast<YamlSequenceNode>().Single(r => r.Children[0].ToString() == "256");
        Assert.Equal("30", ((YamlMappingNode)softcapped.Children[1])["softcap"].ToString());
        Assert.Equal("0.001", softcapped.Children[2].ToString());
        Assert.Equal(5, ((YamlSequenceNode)root["seeds"]).Children.Count);
        Assert.Equal("wikitext2", ((YamlMappingNode)root["train"])["data"].ToString());

        // Both chose an end of the grid: the extension sweep has each at one more rate on that side (2e-3 → 4e-3, 1e-3 → 5e-4).
        var extension = LearningRateSelection.ExtensionOf(tune);
        Assert.Equal(Path.Combine(dir, "q-tune-extend.yaml"), extension);
        // The sweeps it writes keep their records beside the tuning sweep's (a committed folder in the lab).
        Assert.Equal("runs/q-tune-extend", LearningRateSelection.SiblingOut(tune, "q-tune-extend"));
        LearningRateSelection.WriteExtension(tune, designs, extension, LearningRateSelection.SiblingOut(tune, "q-tune-extend"));
        var ext = new YamlStream();
        ext.Load(new StringReader(File.ReadAllText(extension)));
        var extRoot = (YamlMappingNode)ext.Documents[0].RootNode;
        var extRows = ((YamlSequenceNode)((YamlMappingNode)extRoot["grid"]).Children.Single().Value).Children.Cast<YamlSequenceNode>().ToList();
        Assert.Equal(new[] { "128:0.004", "256:0.0005" }, extRows.Select(r => r[0] + ":" + r[2]).OrderBy(x => x));
        Assert.Equal(new[] { "1" }, ((YamlSequenceNode)extRoot["seeds"]).Children.Select(c => c.ToString()));
        Assert.Equal("runs/q-tune-extend", extRoot["out"].ToString());

        // Its records join the selection: 128 improves at 4e-3 (chosen, at the new edge, but the grid is extended only
        // once); 256 is worse at 5e-4 and keeps 1e-3. Neither is at the edge any more.
        var extRuns = Path.Combine(dir, "runs", "q-tune-extend");
        var extPoints = new[] { ("128", "tied", "0.004", 1.60), ("256", "{ tied: true, softcap: 30 }", "0.0005", 1.70) };
        Directory.CreateDirectory(extRuns);
        File.WriteAllLines(Path.Combine(extRuns, "results.jsonl"), extPoints.Select((p, i) =>
        {
            Directory.CreateDirectory(Path.Combine(extRuns, $"p{i:D3}", "s1"));
            File.WriteAllText(Path.Combine(extRuns, $"p{i:D3}", "s1", "result.json"), $"{{\"final_validation_bits_per_byte\": {p.Item4}}}");
            return System.Text.Json.JsonSerializer.Serialize(new { point = i, status = "done", values = new System.Collections.Generic.Dictionary<string, string> { ["embedding"] = p.Item1, ["head"] = p.Item2, ["train.lr"] = p.Item3 }, train = new { lr = p.Item3 } });
        }));
        var again = LearningRateSelection.Select(tune);
        Assert.Equal(4e-3, again.Single(d => d.Values["embedding"] == "128").Chosen);
        Assert.Equal(1e-3, again.Single(d => d.Values["embedding"] == "256").Chosen);
        Assert.All(again, d => Assert.False(d.AtEdge));
        Assert.All(again, d => Assert.True(d.Extended));
        Assert.Equal(3, again.Single(d => d.Values["embedding"] == "256").Scores.Count);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void A_seed_sweep_compares_each_design_with_the_baseline_paired_by_seed_with_holm_and_equivalence()
    {
        var runs = TestRuns.TempDir("slmgen-lab2-compare-");
        var baseline = new[] { 1.600, 1.612, 1.595, 1.608, 1.603 };
        var designs = new (string Embedding, double[] Scores)[]
        {
            ("128", baseline),
            ("256", baseline.Select((b, i) => b - 0.050 + (0.002 * (i % 2))).ToArray()),  // better by ~0.05 on every seed
            ("64", baseline.Select((b, i) => b + (0.001 * ((i % 3) - 1))).ToArray()),       // within ±0.001 of it
            ("32", baseline.Select((b, i) => b + (i % 2 == 0 ? 0.06 : -0.05)).ToArray()),   // noisy: neither
        };
        var lines = designs.Select((d, i) =>
        {
            for (var seed = 1; seed <= d.Scores.Length; seed++)
            {
                Directory.CreateDirectory(Path.Combine(runs, $"p{i:D3}", $"s{seed}"));
                File.WriteAllText(Path.Combine(runs, $"p{i:D3}", $"s{seed}", "result.json"), System.Text.Json.JsonSerializer.Serialize(new { test_bits_per_byte = d.Scores[seed - 1] }));
            }

            return System.Text.Json.JsonSerializer.Serialize(new { point = i, status = "done", values = new System.Collections.Generic.Dictionary<string, string> { ["embedding"] = d.Embedding } });
        }).ToList();
        File.WriteAllLines(Path.Combine(runs, "results.jsonl"), lines);

        var rows = LabComparison.Compare(runs, LabComparison.ParseValues("embedding=128"), margin: 0.01);
        Assert.Equal(3, rows.Count);
        var level = PairedStatistics.SimultaneousLevel(3);
        var expected = designs.Skip(1).Select(d => PairedStatistics.Paired(d.Scores, baseline, level)).ToList();
        Assert.Equal(PairedStatistics.Holm(expected.Select(e => e.P).ToList()), rows.Select(r => r.HolmP));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(expected[i], rows[i].Difference);
            Assert.Equal(5, rows[i].Seeds.Count);
        }

        Assert.Equal("better", rows.Single(r => r.Values["embedding"] == "256").Verdict);
        Assert.Equal("equivalent within ±0.01", rows.Single(r => r.Values["embedding"] == "64").Verdict);
        Assert.StartsWith("inconclusive (these seeds detect", rows.Single(r => r.Values["embedding"] == "32").Verdict, StringComparison.Ordinal);
        var table = LabComparison.Markdown(rows, "test_bits_per_byte", 0.01);
        Assert.Contains("| embedding=256 | 5 |", table, StringComparison.Ordinal);
        Assert.Contains("Bonferroni over 3", table, StringComparison.Ordinal);

        // A baseline that picks no design, or a design without two seeds in common with it, is refused with the folder named.
        Assert.Contains(runs, Assert.Throws<InvalidDataException>(() => LabComparison.Compare(runs, LabComparison.ParseValues("embedding=512"))).Message, StringComparison.Ordinal);
        foreach (var seed in new[] { 2, 3, 4, 5 })
        {
            Directory.Delete(Path.Combine(runs, "p001", $"s{seed}"), recursive: true);
        }

        Assert.Contains("shares 1 seed(s)", Assert.Throws<InvalidDataException>(() => LabComparison.Compare(runs, LabComparison.ParseValues("embedding=128"))).Message, StringComparison.Ordinal);
        Directory.Delete(runs, recursive: true);
    }

    [Fact]
    public void Q3s_cost_table_puts_each_designs_exact_bytes_beside_its_predicted_step_and_decoding_and_its_score()
    {
        var lab = TestRuns.TempDir("slmgen-lab2-q3-");
        var sweep = Path.Combine(lab, "records", "q3-b2-seeds");
        var designs = new (string Layers, long Parameters, long Bytes, double[] Scores)[] { ("4", 500, 2_000, [1.50, 1.52]), ("8", 1000, 4_000, [1.40, 1.42]) };
        var lines = designs.Select((d, i) =>
        {
            for (var seed = 1; seed <= d.Scores.Length; seed++)
            {
                Directory.CreateDirectory(Path.Combine(sweep, $"p{i:D3}", $"s{seed}"));
                File.WriteAllText(Path.Combine(sweep, $"p{i:D3}", $"s{seed}", "result.json"), System.Text.Json.JsonSerializer.Serialize(new
                {
                    final_test_bits_per_byte = d.Scores[seed - 1], test_bits_per_byte = d.Scores[seed - 1], final_test_nll = 3.0, final_validation_bits_per_byte = d.Scores[seed - 1],
                    parameters = d.Parameters, training_flops_per_token = 6000, steps = 100, epochs = 1.0, tokens_per_second = 1e5, device = "cuda (test)", commit = "0123456789abcdef", model = $"M{i}",
                }));
            }

            return System.Text.Json.JsonSerializer.Serialize(new
            {
                point = i, status = "done", values = new System.Collections.Generic.Dictionary<string, string> { ["layers.0.transformer.layers"] = d.Layers },
                costs = new { parameters = d.Parameters, artifactBytes = d.Bytes },
            });
        }).ToList();
        File.WriteAllLines(Path.Combine(sweep, "results.jsonl"), lines);
        Directory.CreateDirectory(Path.Combine(lab, "predictions"));
        File.WriteAllLines(Path.Combine(lab, "predictions", "q3-b2-seeds-time.jsonl"), new[]
        {
            "{\"point\":0,\"profile\":\"test.json\",\"time\":{\"graphedMsPerStep\":1.5,\"decode\":{\"prefillMs\":2.25,\"msPerToken\":0.75}}}",
            "{\"point\":1,\"profile\":\"test.json\",\"time\":{\"graphedMsPerStep\":3.0,\"decode\":{\"prefillMs\":4.5,\"msPerToken\":1.5}}}",
        });

        // Measured decoding for one of the two points (slmgen time --decode's JSON line, keyed by the spec's file name).
        File.WriteAllText(Path.Combine(sweep, "decode.jsonl"), "{\"model\":\"M0\",\"spec\":\"results/lab2/records/q3-b2-seeds/points/p000.yaml\",\"device\":\"cuda (test)\",\"prompt_tokens\":64,\"new_tokens\":128,\"ms_per_token\":0.875}\n");
        var (_, path) = Lab2Report.Write(lab);
        var text = File.ReadAllText(path);
        var section = text[text.IndexOf("## Q3: what sharing saves and costs", StringComparison.Ordinal)..];
        Assert.Contains("a prompt of 64 tokens then 128 more, on cuda (test)", section, StringComparison.Ordinal);
        Assert.Contains("### q3-b2-seeds (profile test.json)", section, StringComparison.Ordinal);
        var rows = section.Split('\n').Where(l => l.StartsWith("| layers.0.transformer.layers=", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal($"| layers.0.transformer.layers=8 | 1,000 | 4,000 | 1.00× | 3.000 | 4.500 | 1.500 | – | {PairedStatistics.MeanSd(designs[1].Scores).Mean:0.0000} ± {PairedStatistics.MeanSd(designs[1].Scores).Sd:0.0000} |", rows[0]);
        Assert.StartsWith("| layers.0.transformer.layers=4 | 500 | 2,000 | 0.50× | 1.500 | 2.250 | 0.750 | 0.875 |", rows[1], StringComparison.Ordinal);
        Directory.Delete(lab, recursive: true);
    }

    [Fact]
    public void The_contest_table_ranks_every_entry_by_validation_after_the_round_trip_and_flags_bytes_over_the_cap_or_off_the_prediction()
    {
        var lab = TestRuns.TempDir("slmgen-lab2-contest-");
        var sweep = Path.Combine(lab, "records", "q6-screen");
        // Three entries: one as predicted and under the cap, one whose written bytes differ from the prediction, one
        // whose shipped file is over 4,000,000 bytes; the second has the best validation score, the first the best test.
        var entries = new (string Name, double Validation, double Test, long Written, long Predicted, long File)[]
        {
            ("Alpha", 1.31, 1.20, 3_880_888, 3_880_888, 3_400_000),
            ("Beta", 1.30, 1.25, 3_700_000, 3_699_999, 3_300_000),
            ("Gamma", 1.40, 1.35, 4_100_000, 4_100_000, 4_000_001),
        };
        var lines = entries.Select((e, i) =>
        {
            Directory.CreateDirectory(Path.Combine(sweep, $"p{i:D3}", "s1"));
            File.WriteAllText(Path.Combine(sweep, $"p{i:D3}", "s1", "result.json"), System.Text.Json.JsonSerializer.Serialize(new
            {
                seed = 1, parameters = 1000 + i, artifact_bytes_stated = e.Predicted - 1000, artifact_bytes = e.Written, artifact_bytes_predicted = e.Predicted,
                artifact_file_bytes = e.File, steps = 2000, cuda_graph_steps = 2000, training_seconds = 60.0, best_step = 2000, batch = 32, context = 256,
                validation_bits_per_byte_artifact = e.Validation, test_bits_per_byte_artifact = e.Test, final_test_bits_per_byte = e.Test + 0.001,
                final_test_nll = 3.0, test_bits_per_byte = e.Test, final_validation_bits_per_byte = e.Validation, epochs = 1.0, tokens_per_second = 1e6,
                training_flops_per_token = 6000, device = "cuda (test)", commit = "0123456789abcdef", model = $"{e.Name}_P{i:D3}",
            }));
            return System.Text.Json.JsonSerializer.Serialize(new
            {
                point = i, model = $"{e.Name}_P{i:D3}", status = "done", values = new System.Collections.Generic.Dictionary<string, string> { ["name"] = e.Name, ["dropout"] = "0.1" },
                train = new System.Collections.Generic.Dictionary<string, string> { ["optimizer"] = "muon", ["cuda_graphs"] = "true" },
            });
        }).ToList();
        File.WriteAllLines(Path.Combine(sweep, "results.jsonl"), lines);
        Directory.CreateDirectory(Path.Combine(lab, "predictions"));
        File.WriteAllText(Path.Combine(lab, "predictions", "q6-screen-time.jsonl"), "{\"point\":1,\"time\":{\"eagerMsPerStep\":12.5,\"graphedMsPerStep\":4.25}}\n");

        var (_, path) = Lab2Report.Write(lab);
        var text = File.ReadAllText(path);
        var table = text[text.IndexOf("## Q6: the capped contest", StringComparison.Ordinal)..].Split('\n').Where(l => l.StartsWith("| q6-screen", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, table.Count);
        Assert.StartsWith("| q6-screen | Beta (dropout 0.1) | muon | 1 |", table[0], StringComparison.Ordinal); // ranked by validation, not test
        Assert.Contains("| 3,700,000 ≠ 3,699,999 |", table[0], StringComparison.Ordinal);
        Assert.Contains("| 4.25 |", table[0], StringComparison.Ordinal); // the graphed prediction of point 1
        Assert.Contains("| 3,880,888 = predicted | 3,400,000 | yes |", table[1], StringComparison.Ordinal);
        Assert.Contains("| – |", table[1], StringComparison.Ordinal); // no prediction for point 0
        Assert.Contains("| 4,000,001 | **no** |", table[2], StringComparison.Ordinal);
        Assert.Contains("| 2,000 (2,000) | 60.0 | 30.00 |", table[2], StringComparison.Ordinal);
        Directory.Delete(lab, recursive: true);
    }

    [Fact]
    public void Families_pick_a_baseline_per_group_or_the_best_and_pair_seeds_only_within_a_tokenizer()
    {
        var lab = TestRuns.TempDir("slmgen-lab2-family-");
        var runs = Path.Combine(lab, "records", "q2b-seeds");
        // Two vocabularies, each with a full head and a two-level head; the 16k tokenizer differs from the 4k one.
        var designs = new (string Vocab, string Head, string Tokenizer, double[] Scores)[]
        {
            ("4096", "tied", "bpe-4096", [1.50, 1.51, 1.49, 1.52, 1.50]),
            ("4096", "groups", "bpe-4096", [1.60, 1.62, 1.58, 1.61, 1.60]),
            ("16384", "tied", "bpe-16384", [1.45, 1.46, 1.44, 1.47, 1.45]),
            ("16384", "groups", "bpe-16384-freq", [1.55, 1.50, 1.59, 1.52, 1.58]),
        };
        var lines = designs.Select((d, i) =>
        {
            for (var seed = 1; seed <= d.Scores.Length; seed++)
            {
                Directory.CreateDirectory(Path.Combine(runs, $"p{i:D3}", $"s{seed}"));
                File.WriteAllText(Path.Combine(runs, $"p{i:D3}", $"s{seed}", "result.json"), System.Text.Json.JsonSerializer.Serialize(new
                {
                    final_test_bits_per_byte = d.Scores[seed - 1], test_bits_per_byte = d.Scores[seed - 1] + 0.001, final_test_nll = d.Scores[seed - 1] / 0.3 * Math.Log(2),
                    final_validation_bits_per_byte = d.Scores[seed - 1] + 0.01, parameters = 1000 + i, training_flops_per_token = 6000, steps = 100, epochs = 1.5, tokens_per_second = 1e5,
                    device = "cuda (test)", commit = "0123456789abcdef", cuda_graph_steps = 100, fused_kernels = true,
                    model = $"M{i}", test_bits_per_byte_artifact = d.Scores[seed - 1] + 0.02, artifact_file_bytes = 123456,
                }));
            }

            return System.Text.Json.JsonSerializer.Serialize(new { point = i, status = "done", values = new System.Collections.Generic.Dictionary<string, string> { ["vocab"] = d.Vocab, ["head"] = d.Head, ["tokenizer"] = d.Tokenizer } });
        }).ToList();
        File.WriteAllLines(Path.Combine(runs, "results.jsonl"), lines);
        File.WriteAllText(Path.Combine(runs, "timing.jsonl"), "{\"model\":\"M2\",\"graphed\":true,\"ms_per_step\":1.2345}\n");

        // Q2b's family: each two-level head against the full head of its vocabulary, one family of 2 (Bonferroni, Holm).
        var rows = LabComparison.CompareWithin(runs, LabComparison.ParseValues("head=tied"), ["vocab"], "final_test_bits_per_byte");
        Assert.Equal(2, rows.Count);
        var level = PairedStatistics.SimultaneousLevel(2);
        var same = rows.Single(r => r.Values["vocab"] == "4096");
        Assert.Equal("tied", same.Baseline["head"]);
        Assert.Equal("4096", same.Baseline["vocab"]);
        Assert.Equal(PairedStatistics.Paired(designs[1].Scores, designs[0].Scores, level), same.Difference); // same tokenizer: paired
        var other = rows.Single(r => r.Values["vocab"] == "16384");
        Assert.Equal("16384", other.Baseline["vocab"]);
        Assert.Equal(PairedStatistics.Welch(designs[3].Scores, designs[2].Scores, level), other.Difference); // another tokenizer: Welch
        Assert.False(other.Difference.Paired);
        Assert.Equal(PairedStatistics.Holm(rows.Select(r => r.Difference.P).ToList()), rows.Select(r => r.HolmP));
        Assert.Contains("| design | baseline |", LabComparison.Markdown(rows, "final_test_bits_per_byte", 0.01), StringComparison.Ordinal);

        // Q1's family: the lowest mean against every other design.
        var best = LabComparison.CompareWithBest(runs, "final_test_bits_per_byte");
        Assert.Equal(3, best.Count);
        Assert.All(best, r => Assert.Equal("16384", r.Baseline["vocab"]));
        Assert.All(best, r => Assert.Equal("tied", r.Baseline["head"]));

        // A group without its baseline is refused with the group named.
        var missing = Assert.Throws<InvalidDataException>(() => LabComparison.CompareWithin(runs, LabComparison.ParseValues("head=tied,tokenizer=bpe-4096"), ["vocab"]));
        Assert.Contains("vocab=16384", missing.Message, StringComparison.Ordinal);

        // A sweep of adapted designs alone (Q3's LoRA seeds) takes its baseline from another sweep of the same seeds, paired by seed.
        var adapted = Path.Combine(lab, "adapted-seeds");
        double[] adaptedScores = [1.52, 1.53, 1.50, 1.55, 1.51];
        for (var seed = 1; seed <= adaptedScores.Length; seed++)
        {
            Directory.CreateDirectory(Path.Combine(adapted, "p000", $"s{seed}"));
            File.WriteAllText(Path.Combine(adapted, "p000", $"s{seed}", "result.json"), $"{{\"final_test_bits_per_byte\": {adaptedScores[seed - 1].ToString(System.Globalization.CultureInfo.InvariantCulture)}}}");
        }

        File.WriteAllText(Path.Combine(adapted, "results.jsonl"), "{\"point\": 0, \"status\": \"done\", \"values\": {\"vocab\": \"4096\", \"head\": \"lora\", \"tokenizer\": \"bpe-4096\"}}\n");
        var across = Assert.Single(LabComparison.CompareWithin(adapted, LabComparison.ParseValues("head=tied,vocab=4096"), [], "final_test_bits_per_byte", 0.01, runs));
        Assert.Equal("lora", across.Values["head"]);
        Assert.Equal("tied", across.Baseline["head"]);
        Assert.Equal(PairedStatistics.Paired(adaptedScores, designs[0].Scores, PairedStatistics.SimultaneousLevel(1)), across.Difference);
        Assert.Throws<InvalidDataException>(() => LabComparison.CompareWithin(adapted, LabComparison.ParseValues("head=tied"), [], "final_test_bits_per_byte", 0.01, runs)); // two tied heads there: ambiguous
        Assert.Throws<InvalidDataException>(() => LabComparison.CompareWithin(adapted, LabComparison.ParseValues("head=tied,vocab=4096"), [])); // without the other sweep: no baseline

        // Q2a's timings (scripts/gpu/lab2-call-a.sh's records, imported into records/q2a): a width × vocabulary table.
        Directory.CreateDirectory(Path.Combine(lab, "records", "q2a"));
        File.WriteAllLines(Path.Combine(lab, "records", "q2a", "time-q2-grid-graphed.jsonl"), new[]
        {
            "{\"model\":\"A\",\"device\":\"cuda (test)\",\"batch\":32,\"context\":256,\"width\":128,\"vocab\":1024,\"graphed\":true,\"ms_per_step\":7.5,\"head_share_of_time\":0.029,\"head_share_of_flops\":0.088,\"predicted_ms_per_step\":8.0,\"predicted_head_ms_per_step\":0.28,\"peak_allocated_bytes\":1610612736}",
            "{\"model\":\"B\",\"device\":\"cuda (test)\",\"batch\":32,\"context\":256,\"width\":256,\"vocab\":4096,\"graphed\":true,\"ms_per_step\":8.1,\"head_share_of_time\":0.08,\"head_share_of_flops\":0.179,\"predicted_ms_per_step\":8.2,\"predicted_head_ms_per_step\":0.574}",
        });

        // The report: the sweep's summary (both scores), its family and the provenance, recomputed from these records.
        var (sweeps, path) = Lab2Report.Write(lab);
        Assert.Equal(1, sweeps);
        var text = File.ReadAllText(path);
        Assert.Contains("## q2b-seeds", text, StringComparison.Ordinal);
        Assert.Contains("20 finished runs; device cuda (test); commit 0123456", text, StringComparison.Ordinal);
        Assert.Contains($"| {designs[2].Scores.Average():0.0000} ± {PairedStatistics.MeanSd(designs[2].Scores).Sd:0.0000} | {designs[2].Scores.Average() + 0.001:0.0000} ± ", text, StringComparison.Ordinal);
        Assert.Contains("0.300 |", text, StringComparison.Ordinal); // tokens per byte = bits per byte / bits per token
        Assert.Contains("| test after the round trip | artifact bytes (file) |", text, StringComparison.Ordinal);
        Assert.Contains($"| {designs[2].Scores.Average() + 0.02:0.0000} ± {PairedStatistics.MeanSd(designs[2].Scores).Sd:0.0000} | 123,456 |", text, StringComparison.Ordinal);
        Assert.Contains("| 1.235 |", text, StringComparison.Ordinal); // M2's step timed alone
        Assert.Contains("| ms/step alone |", text, StringComparison.Ordinal);
        Assert.Contains("![q2b-seeds](plots/q2b-seeds.png)", text, StringComparison.Ordinal);
        Assert.True(new FileInfo(Path.Combine(lab, "plots", "q2b-seeds.png")).Length > 1000);
        Assert.Contains("### time-q2-grid-graphed: 32 × 256 tokens, one CUDA graph, cuda (test)", text, StringComparison.Ordinal);
        Assert.Contains("| 128 | 8.8 % → 2.9 % (3.5 %)<br>7.500 ms, 1.50 GiB | – |", text, StringComparison.Ordinal);
        Assert.Contains("| 256 | – | 17.9 % → 8.0 % (7.0 %)<br>8.100 ms |", text, StringComparison.Ordinal);
        Assert.Contains($"{same.Difference.Mean:+0.0000;-0.0000} | [{same.Difference.Low:+0.0000;-0.0000}, {same.Difference.High:+0.0000;-0.0000}]", text, StringComparison.Ordinal);
        Directory.Delete(lab, recursive: true);
    }

    [Fact]
    public void The_committed_tables_of_the_second_lab_are_what_its_committed_records_give()
    {
        // A reviewer recomputes the tables from the records and finds no mismatch (issue 28): regenerate README.md
        // from results/lab2/records and compare with the committed file, line by line.
        var lab = Path.Combine(Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!, "results", "lab2");
        var regenerated = Path.Combine(TestRuns.TempDir("slmgen-lab2-readme-"), "README.md");
        var (sweeps, _) = Lab2Report.Write(lab, regenerated);
        Assert.True(sweeps >= 8, $"{sweeps} sweeps in {lab}/records");
        var committed = File.ReadAllLines(Path.Combine(lab, "README.md"));
        var fresh = File.ReadAllLines(regenerated);
        var firstDifference = Enumerable.Range(0, Math.Min(committed.Length, fresh.Length)).FirstOrDefault(i => committed[i] != fresh[i], -1);
        Assert.True(firstDifference < 0 && committed.Length == fresh.Length,
            $"results/lab2/README.md differs from its records (run `dotnet run --project samples/LabReport -c Release -- lab2`); first difference at line {firstDifference + 1}");
        Directory.Delete(Path.GetDirectoryName(regenerated)!, recursive: true);
    }

    [Fact]
    public void A_design_of_one_sweep_against_one_of_another_takes_welchs_interval_and_falls_back_to_final_weights()
    {
        // LabReport across on the committed records: stretched-grid 2-bit QAT (q4-grid, 5 seeds) against symmetric
        // 2-bit QAT (q4-qat, 3 seeds), after the round trip; and a full-precision sweep (no artifact) on its final weights.
        var records = Path.Combine(Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!, "results", "lab2", "records");
        var x = LabComparison.Across(Path.Combine(records, "q4-grid"), 0, Path.Combine(records, "q4-qat"), 0);
        Assert.Equal(5, x.A.Scores.Count);
        Assert.Equal(3, x.B.Scores.Count);
        Assert.False(x.Difference.Paired);
        Assert.Equal(x.A.Scores.Values.Average() - x.B.Scores.Values.Average(), x.Difference.Mean, 12);
        Assert.True(x.Difference.High < 0, $"{x.Difference}");
        Assert.Equal(PairedStatistics.Welch(x.A.Scores.Values.ToList(), x.B.Scores.Values.ToList()), x.Difference);

        var full = LabComparison.Across(Path.Combine(records, "q4-qat"), 5, Path.Combine(records, "q4-seeds"), 0);
        Assert.Equal("test_bits_per_byte_artifact", full.AMetric);
        Assert.Equal("final_test_bits_per_byte", full.BMetric);
        Assert.Contains("no finished point 99", Assert.Throws<InvalidDataException>(() => LabComparison.Across(Path.Combine(records, "q4-grid"), 99, Path.Combine(records, "q4-qat"), 0)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Q4s_designs_are_named_by_their_stabiliser_and_plan()
    {
        // The answer table's rows and columns come from the sweeps' grid values (Q4Answer): one stabiliser per design,
        // the plan from the quantization mapping and the QAT start.
        static System.Collections.Generic.Dictionary<string, string> V(params string[] kv) => kv.Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("none", Q4Answer.Stabiliser(V("head=tied", "layers.0.transformer.qk_norm=false", "train.z_loss=0", "train.ema_decay=0")));
        Assert.Equal("QK-norm", Q4Answer.Stabiliser(V("head=tied", "layers.0.transformer.qk_norm=true", "train.z_loss=0")));
        Assert.Equal("logit soft-cap 30", Q4Answer.Stabiliser(V("head={ tied: true, softcap: 30 }")));
        Assert.Equal("z-loss 1e-4 + weight EMA 0.999", Q4Answer.Stabiliser(V("train.z_loss=1e-4", "train.ema_decay=0.999")));
        Assert.Equal("full precision", Q4Answer.Plan(V("head=tied")));
        Assert.Equal("3-bit late QAT", Q4Answer.Plan(V("quantization={ attention: 3, mlp: 3, embedding: 8, group: 64, method: qat, compression: zstd }", "train.qat_start=0.5")));
        Assert.Equal("2-bit QAT (stretched grid)", Q4Answer.Plan(V("quantization={ attention: 2, mlp: 2, embedding: 8, group: 64, method: qat, grid: stretched, compression: zstd }", "train.qat_start=0")));
        Assert.Equal("4-bit GPTQ", Q4Answer.Plan(V("quantization={ attention: 4, mlp: 4, embedding: 8, group: 64, method: gptq, compression: zstd }")));
    }

    [Fact]
    public void The_equal_wall_clock_sweep_gives_each_design_the_steps_its_own_timed_step_buys()
    {
        var dir = TestRuns.TempDir("slmgen-lab2-wall-");
        Directory.CreateDirectory(Path.Combine(dir, "templates"));
        Directory.CreateDirectory(Path.Combine(dir, "experiments"));
        File.WriteAllText(Path.Combine(dir, "templates", "base.yaml"), "name: B\n");
        var template = Path.Combine(dir, "experiments", "t-seeds.yaml");
        File.WriteAllText(template, "base: ../templates/base.yaml\ngrid:\n  embedding, train.lr:\n  - [128, 0.002]\n  - [256, 0.001]\nseeds: [1]\ntrain: { data: wikitext2, flops: 1e14, min_steps: 200, batch: 32, eval_every: 50 }\nout: ../records/t-seeds\n");
        var records = Path.Combine(dir, "records", "t-seeds");
        Directory.CreateDirectory(records);
        File.WriteAllLines(Path.Combine(records, "results.jsonl"), new[]
        {
            "{\"point\":0,\"model\":\"T_P000\",\"status\":\"done\",\"values\":{\"embedding\":\"128\",\"train.lr\":\"0.002\"}}",
            "{\"point\":1,\"model\":\"T_P001\",\"status\":\"done\",\"values\":{\"embedding\":\"256\",\"train.lr\":\"0.001\"}}",
        });
        var output = Path.Combine(dir, "experiments", "t-wall-60s.yaml");

        // Not timed yet: refused, naming the file it needs.
        Assert.Contains("timing.jsonl", Assert.Throws<InvalidDataException>(() => WallClockSweep.Write(template, 60, [1, 2], output)).Message, StringComparison.Ordinal);
        File.WriteAllLines(Path.Combine(records, "timing.jsonl"), new[] { "{\"model\":\"T_P000\",\"graphed\":true,\"ms_per_step\":1.6}" });
        Assert.Contains("T_P001", Assert.Throws<InvalidDataException>(() => WallClockSweep.Write(template, 60, [1, 2], output)).Message, StringComparison.Ordinal);
        File.AppendAllLines(Path.Combine(records, "timing.jsonl"), new[] { "{\"model\":\"T_P001\",\"graphed\":true,\"ms_per_step\":7}" });

        var designs = WallClockSweep.Write(template, 60, [1, 2], output);
        Assert.Equal(new long[] { 37500, 8571 }, designs.Select(d => d.Steps)); // ⌊60,000 ms / 1.6⌋, ⌊60,000 / 7⌋
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(output)));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("../templates/base.yaml", root["base"].ToString());
        Assert.Equal("../records/t-wall-60s", root["out"].ToString());
        var grid = (YamlMappingNode)root["grid"];
        Assert.Equal("embedding, train.lr, train.steps", grid.Children.Single().Key.ToString());
        Assert.Equal(new[] { "256", "0.001", "8571" }, ((YamlSequenceNode)((YamlSequenceNode)grid.Children.Single().Value)[1]).Select(n => n.ToString()));
        var train = (YamlMappingNode)root["train"];
        Assert.False(train.Children.ContainsKey(new YamlScalarNode("flops")));
        Assert.False(train.Children.ContainsKey(new YamlScalarNode("min_steps")));
        Assert.Equal("32", train["batch"].ToString());
        Assert.Equal("450", train["eval_every"].ToString()); // the shortest run (8,571 steps) evaluates about 20 times, not 171
        Assert.Equal(new[] { "1", "2" }, ((YamlSequenceNode)root["seeds"]).Select(n => n.ToString()));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void A_lora_rate_sweep_is_selected_on_its_lora_lr_axis_and_its_seeds_keep_the_design_rate()
    {
        var dir = TestRuns.TempDir("slmgen-lab2-lora-");
        File.WriteAllText(Path.Combine(dir, "base.yaml"), "name: B\n");
        var tune = Path.Combine(dir, "l-tune.yaml");
        File.WriteAllText(tune, "base: base.yaml\ngrid:\n  rank, train.lr: [[4, 0.002]]\n  train.lora_lr: [0.002, 0.008, 0.032]\nseeds: [1]\ntrain: { data: wikitext2, flops: 1e14 }\nout: runs/l-tune\n");
        var runs = Path.Combine(dir, "runs", "l-tune");
        var scores = new[] { ("0.002", 1.78), ("0.008", 1.74), ("0.032", 1.80) };
        Directory.CreateDirectory(runs);
        File.WriteAllLines(Path.Combine(runs, "results.jsonl"), scores.Select((p, i) =>
        {
            Directory.CreateDirectory(Path.Combine(runs, $"p{i:D3}", "s1"));
            File.WriteAllText(Path.Combine(runs, $"p{i:D3}", "s1", "result.json"), $"{{\"final_validation_bits_per_byte\": {p.Item2}}}");
            return System.Text.Json.JsonSerializer.Serialize(new { point = i, status = "done", values = new System.Collections.Generic.Dictionary<string, string> { ["rank"] = "4", ["train.lr"] = "0.002", ["train.lora_lr"] = p.Item1 }, train = new { lr = "0.002", lora_lr = p.Item1 } });
        }));

        Assert.Equal("lora_lr", LearningRateSelection.AxisOf(tune));
        var design = Assert.Single(LearningRateSelection.Select(tune));
        Assert.Equal(0.008, design.Chosen);
        Assert.Equal("0.002", design.Values["train.lr"]); // the design's own rate stays one of its values
        Assert.False(design.AtEdge);
        var seeds = Path.Combine(dir, "l-seeds.yaml");
        LearningRateSelection.WriteSeedSweep(tune, [design], [1, 2], seeds, "runs/l-seeds");
        var text = File.ReadAllText(seeds);
        Assert.Contains("rank, train.lr, train.lora_lr:", text, StringComparison.Ordinal);
        Assert.Contains("[4, 0.002, 0.008]", text, StringComparison.Ordinal);

        // A tuning sweep with a point not finished has no choice yet: select-lr refuses it, naming the point.
        Assert.Empty(LearningRateSelection.Unfinished(tune));
        File.AppendAllText(Path.Combine(runs, "results.jsonl"), "{\"point\":3,\"status\":\"interrupted (resumes when the sweep runs again)\",\"values\":{}}\n");
        Assert.Equal("l-tune p003: interrupted (resumes when the sweep runs again)", Assert.Single(LearningRateSelection.Unfinished(tune)));
        Directory.Delete(dir, recursive: true);
    }
}

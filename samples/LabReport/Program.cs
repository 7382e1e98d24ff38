using System;
using System.Globalization;
using System.IO;
using System.Linq;
using SlmGen.Samples.LabReport;

// Regenerates results/lab/README.md and results/lab/plots/*.png from the lab's sweep records.
//   dotnet run --project samples/LabReport -c Release [-- --records results/lab/records --out results/lab]
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture; // the same tables on every machine
if (args.Length > 0 && args[0] == "select-lr")
{
    // The second lab's learning-rate selection (results/lab2/PROTOCOL.md §3):
    //   LabReport select-lr --tune results/lab2/experiments/q1-b1-tune.yaml [--seeds 1,2,3,4,5]
    // prints every design's scores; writes q1-b1-tune-extend.yaml beside it when a design chose an end of the grid
    // (one more rate on that side, once), else q1-b1-seeds.yaml (each design at its chosen rate).
    var select = new SlmGen.Samples.CommandLine(args[1..], "LabReport select-lr: each design's learning rate from a tuning sweep's records; writes the seed sweep.");
    var tune = select.String("tune", "", "the tuning sweep's template (its records under its out folder)");
    var seedList = select.String("seeds", "1,2,3,4,5", "the seeds of the sweep it writes");
    if (select.WantsHelp || tune.Length == 0)
    {
        Console.WriteLine(select.Usage);
        return tune.Length == 0 && !select.WantsHelp ? 2 : 0;
    }

    select.EnsureAllKnown();
    // A choice needs every rate of every design: an unfinished tuning sweep is refused, not half-selected.
    var unfinished = LearningRateSelection.Unfinished(tune);
    if (unfinished.Count > 0)
    {
        Console.Error.WriteLine($"{tune}: {unfinished.Count} point(s) of its tuning sweep have not finished ({string.Join(", ", unfinished.Take(5))}{(unfinished.Count > 5 ? ", …" : string.Empty)}); run the sweep again (done points are not rerun), then select.");
        return 1;
    }

    var designs = LearningRateSelection.Select(tune);
    foreach (var d in designs)
    {
        var scores = string.Join("  ", d.Scores.OrderBy(s => s.Key).Select(s => $"{s.Key:g3}: {s.Value:0.0000}{(s.Key == d.Chosen ? "*" : " ")}"));
        Console.WriteLine($"{string.Join(", ", d.Values.OrderBy(v => v.Key).Select(v => $"{v.Key}={v.Value}"))}  |  {scores}{(d.AtEdge ? "  (at the grid's edge: extend once, PROTOCOL.md §3)" : d.Extended ? "  (grid extended once)" : string.Empty)}");
    }

    var tuneOut = System.IO.Path.GetFileNameWithoutExtension(tune).Replace("-tune", string.Empty, StringComparison.Ordinal);
    if (designs.Any(d => d.AtEdge))
    {
        // §3: a design whose best rate is an end of the grid gets one more rate on that side before its seeds run.
        var extension = LearningRateSelection.ExtensionOf(tune);
        LearningRateSelection.WriteExtension(tune, designs, extension, LearningRateSelection.SiblingOut(tune, System.IO.Path.GetFileNameWithoutExtension(extension)));
        Console.WriteLine($"wrote {extension}: {designs.Count(d => d.AtEdge)} of {designs.Count} designs at the grid's edge, each at one more rate; run it (slmgen sweep {extension}), then select-lr again for the seed sweep");
        return 0;
    }

    var seedsOut = tune.Replace("-tune.yaml", "-seeds.yaml", StringComparison.Ordinal);
    if (seedsOut == tune)
    {
        seedsOut = Path.ChangeExtension(tune, null) + "-seeds.yaml";
    }

    LearningRateSelection.WriteSeedSweep(tune, designs, seedList.Split(',').Select(long.Parse).ToList(), seedsOut, LearningRateSelection.SiblingOut(tune, $"{tuneOut}-seeds"));
    Console.WriteLine($"wrote {seedsOut}: {designs.Count} designs; {designs.Count(d => d.Extended)} of them with the grid extended once");
    return 0;
}

if (args.Length > 0 && args[0] == "compare")
{
    // The second lab's comparisons (results/lab2/PROTOCOL.md §5): every design of a seed sweep against a baseline.
    //   LabReport compare --records results/lab2/records/q1-b1-seeds --baseline best [--metric final_test_bits_per_byte] [--margin 0.01] [--out FILE.md]
    //   LabReport compare --records results/lab2/records/q2b-seeds --baseline "head=tied" --group-by vocab
    var compare = new SlmGen.Samples.CommandLine(args[1..], "LabReport compare: every design of a seed sweep against a baseline, paired by seed where the tokenizer is shared, Welch otherwise (Holm, Bonferroni intervals, equivalence, detectable difference).");
    var recordsDir = compare.String("records", "", "the seed sweep's out folder (results.jsonl and p###/s<seed>/result.json)");
    var baselineText = compare.String("baseline", "", "key=value,... of the grid values that pick the baseline design, or 'best' (the lowest mean)");
    var groupBy = compare.String("group-by", "", "comma-separated grid keys: the baseline is picked within each group of designs sharing them");
    var metric = compare.String("metric", "final_test_bits_per_byte", "the result.json field compared (lower is better)");
    var margin = compare.String("margin", "0.01", "the equivalence margin, in the metric's unit");
    var output = compare.String("out", "", "also write the table to this Markdown file");
    if (compare.WantsHelp || recordsDir.Length == 0 || baselineText.Length == 0)
    {
        Console.WriteLine(compare.Usage);
        return compare.WantsHelp ? 0 : 2;
    }

    compare.EnsureAllKnown();
    var m = double.Parse(margin, CultureInfo.InvariantCulture);
    var compared = baselineText == "best"
        ? LabComparison.CompareWithBest(recordsDir, metric, m)
        : LabComparison.CompareWithin(recordsDir, LabComparison.ParseValues(baselineText), groupBy.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), metric, m);
    var table = LabComparison.Markdown(compared, metric, m);
    Console.Write(table);
    if (output.Length > 0)
    {
        File.WriteAllText(output, table);
    }

    return 0;
}

if (args.Length > 0 && args[0] == "across")
{
    // One design of one sweep against one design of another (results/lab2/PROTOCOL.md §5, outside a family): Welch's
    // interval (the runs are different trainings even where the seeds match), at the confidence given.
    //   LabReport across --a results/lab2/records/q4-grid --a-point 1 --b results/lab2/records/q4-qat --b-point 0 [--metric M]
    var across = new SlmGen.Samples.CommandLine(args[1..], "LabReport across: one design of a sweep against one of another sweep (Welch's interval; descriptive, outside any family).");
    var aDir = across.String("a", "", "the first sweep's out folder");
    var aPoint = across.String("a-point", "", "the first sweep's design: its point number (p### in the folder; results.jsonl's point)");
    var bDir = across.String("b", "", "the second sweep's out folder");
    var bPoint = across.String("b-point", "", "the second sweep's design: its point number");
    var metric = across.String("metric", Lab2Report.RoundTripMetric, "the result.json field compared (lower is better); a sweep without it compares final_test_bits_per_byte");
    var level = across.String("confidence", "0.95", "the interval's confidence");
    if (across.WantsHelp || aDir.Length == 0 || bDir.Length == 0 || aPoint.Length == 0 || bPoint.Length == 0)
    {
        Console.WriteLine(across.Usage);
        return across.WantsHelp ? 0 : 2;
    }

    across.EnsureAllKnown();
    var x = LabComparison.Across(aDir, int.Parse(aPoint.TrimStart('p'), CultureInfo.InvariantCulture), bDir, int.Parse(bPoint.TrimStart('p'), CultureInfo.InvariantCulture), metric, double.Parse(level, CultureInfo.InvariantCulture));
    var (a, b, d) = (x.A.Scores.Values.ToList(), x.B.Scores.Values.ToList(), x.Difference);
    Console.WriteLine($"a: {LabComparison.Describe(x.A.Values)} — {a.Average():0.0000} ({a.Count} runs, {x.AMetric})");
    Console.WriteLine($"b: {LabComparison.Describe(x.B.Values)} — {b.Average():0.0000} ({b.Count} runs, {x.BMetric})");
    Console.WriteLine($"a − b = {d.Mean:+0.0000;-0.0000} [{d.Low:+0.0000;-0.0000}, {d.High:+0.0000;-0.0000}] at {d.Confidence:P0} (Welch, {d.DegreesOfFreedom:0.0} df, p {d.P:0.####})");
    return 0;
}

if (args.Length > 0 && args[0] == "wall")
{
    // Q1's equal-wall-clock arm (results/lab2/PROTOCOL.md §4): a sweep trained and timed alone (--time) → the same
    // designs at equal seconds of their own step.
    //   LabReport wall --template results/lab2/experiments/q1-b1-sliding.yaml --seconds 60 --out results/lab2/experiments/q1-wall-60s.yaml
    var wall = new SlmGen.Samples.CommandLine(args[1..], "LabReport wall: the equal-wall-clock sweep of a timed sweep's designs (steps = seconds / ms per step alone).");
    var template = wall.String("template", "", "the sweep that was trained and timed alone (its records hold timing.jsonl)");
    var seconds = wall.String("seconds", "60", "the wall-clock each design gets, in seconds of its step timed alone");
    var seedList = wall.String("seeds", "1,2,3,4,5", "the seeds of the sweep it writes");
    var output = wall.String("out", "", "the sweep template to write");
    if (wall.WantsHelp || template.Length == 0 || output.Length == 0)
    {
        Console.WriteLine(wall.Usage);
        return wall.WantsHelp ? 0 : 2;
    }

    wall.EnsureAllKnown();
    if (!double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var budget) || !double.IsFinite(budget) || budget <= 0)
    {
        Console.Error.WriteLine($"--seconds must be a number of seconds above 0, not '{seconds}'.");
        return 2;
    }

    foreach (var d in WallClockSweep.Write(template, budget, seedList.Split(',').Select(long.Parse).ToList(), output))
    {
        Console.WriteLine($"{LabComparison.Describe(d.Values)}  |  {d.MillisecondsPerStep:0.000} ms/step alone → {d.Steps:N0} steps in {budget:g} s");
    }

    Console.WriteLine($"wrote {output}");
    return 0;
}

if (args.Length > 0 && args[0] == "lab2")
{
    // The second lab's tables, regenerated from its records (results/lab2/PROTOCOL.md §7):
    //   LabReport lab2 [--lab results/lab2]   → results/lab2/README.md
    var report = new SlmGen.Samples.CommandLine(args[1..], "LabReport lab2: the second lab's tuning grids, seed-sweep summaries and comparison families, from its records.");
    var labDir = report.String("lab", Path.Combine(FindRepo(), "results", "lab2"), "the lab's folder (experiments/ and records/); README.md is written there");
    if (report.WantsHelp)
    {
        Console.WriteLine(report.Usage);
        return 0;
    }

    report.EnsureAllKnown();
    var (sweeps, path) = Lab2Report.Write(labDir);
    Console.WriteLine($"Wrote {path} ({sweeps} sweeps) from {Path.Combine(labDir, "records")}.");
    return 0;
}

var root = FindRepo();
var cli = new SlmGen.Samples.CommandLine(args, "LabReport: regenerate results/lab/README.md and results/lab/plots from the lab's sweep records.");
var records = cli.String("records", Path.Combine(root, "results", "lab", "records"), "the sweep records: one folder per experiment with its results.jsonl");
var outDir = cli.String("out", Path.Combine(root, "results", "lab"), "where README.md and plots/ go");
if (cli.WantsHelp)
{
    Console.WriteLine(cli.Usage);
    return 0;
}

cli.EnsureAllKnown();
var rows = LabTables.Write(records, outDir);
Console.WriteLine($"Wrote {Path.Combine(outDir, "README.md")} ({rows} table rows) and its plots from {records}.");
return 0;

static string FindRepo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "SlmGen.sln")))
        {
            return dir.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}

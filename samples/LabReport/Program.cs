using System;
using System.Globalization;
using System.IO;
using SlmGen.Samples.LabReport;

// Regenerates results/lab/README.md and results/lab/plots/*.png from the lab's sweep records.
//   dotnet run --project samples/LabReport -c Release [-- --records results/lab/records --out results/lab]
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture; // the same tables on every machine
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

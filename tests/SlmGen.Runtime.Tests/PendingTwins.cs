using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace SlmGen.Runtime.Tests;

/// <summary>The sample models waiting for their GPU twin records (results/twins/pending.md, one "- `Name`" line each).</summary>
internal static class PendingTwins
{
    /// <summary>The pending models' full names.</summary>
    public static HashSet<string> Names() =>
        File.ReadLines(Path.Combine(Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!, "results", "twins", "pending.md"))
            .Where(l => l.StartsWith("- `", StringComparison.Ordinal)).Select(l => l.Split('`')[1]).ToHashSet(StringComparer.Ordinal);
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SlmGen.Generator.Tests.Infrastructure;

namespace SlmGen.Generator.Tests;

/// <summary>
/// The random valid specs of the PyTorch twin check (samples/Twins/random/*.yaml) are the property-test
/// generator's draws: 40 of the first release's layers (seed 9100) and 40 with the compact-model levers (seed
/// 9200). They are committed so that the GPU machine, which has no SDK, runs them compiled into the Twins
/// sample; this test keeps the files equal to the draws (SLMGEN_ACCEPT_SNAPSHOTS=1 rewrites them).
/// </summary>
public class TwinSpecTests
{
    public const int PerSeed = 40;

    public static IReadOnlyList<(string File, string Yaml)> Draws()
    {
        var result = new List<(string, string)>();
        foreach (var (seed, levers) in new[] { (9100, false), (9200, true) })
        {
            var designs = new RandomDesigns(seed, levers);
            for (var i = 0; result.Count < PerSeed * (levers ? 2 : 1); i++)
            {
                var (yaml, _) = designs.Next($"Twin{seed}_{i}");
                if (yaml is not null)
                {
                    result.Add(($"twin{seed}-{i:D3}.yaml", $"# Drawn by the property-test generator (RandomDesigns, seed {seed}{(levers ? ", levers" : string.Empty)}); see tests/SlmGen.Generator.Tests/TwinSpecTests.cs.\n" + yaml));
                }
            }
        }

        return result;
    }

    [Fact]
    public void The_committed_random_twin_specs_are_the_generators_draws()
    {
        var dir = Repo.Path("samples", "Twins", "random");
        var draws = Draws();
        if (Environment.GetEnvironmentVariable("SLMGEN_ACCEPT_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(dir);
            foreach (var stale in Directory.GetFiles(dir, "*.yaml"))
            {
                File.Delete(stale);
            }

            foreach (var (file, yaml) in draws)
            {
                File.WriteAllText(Path.Combine(dir, file), yaml);
            }
        }

        Assert.Equal(draws.Select(d => d.File).Order(), Directory.GetFiles(dir, "*.yaml").Select(Path.GetFileName).Order());
        foreach (var (file, yaml) in draws)
        {
            Assert.Equal(yaml, File.ReadAllText(Path.Combine(dir, file)));
        }
    }
}

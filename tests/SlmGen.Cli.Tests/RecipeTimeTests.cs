using System;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace SlmGen.Cli.Tests;

/// <summary>
/// The training recipe's work besides the plan's (train's ema_decay and z_loss) in the time model and the step timer:
/// `slmgen time --ema-decay --z-loss` measures a step with them and predicts it; `slmgen costs` predicts it; both say
/// so in their JSON; settings that cannot apply are one error line.
/// </summary>
public sealed class RecipeTimeTests : IDisposable
{
    private const string Spec = """
        name: TinyRecipe
        vocab: 65
        context: 16
        embedding: 32
        positions: rope
        layers:
          - transformer: { layers: 1, heads: 2, ffn: 2x, activation: relu2, norm: rmsnorm, attention_bias: false, ffn_bias: false }
        final_norm: rmsnorm
        head: tied
        quantization: { attention: 4, mlp: 4, group: 16, method: qat }
        """;

    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private SlmGenProcess Slmgen(params string[] args) => SlmGenProcess.Run(folder.Path, TimeSpan.FromMinutes(3), args);

    [Fact]
    public void Time_and_costs_take_the_recipe_and_predict_more_with_it()
    {
        var spec = folder.File("recipe.yaml", Spec);
        var profile = Path.Combine(SlmGenProcess.Repository, "profiles", "cpu-2core.json");
        var records = Path.Combine(folder.Path, "time.jsonl");
        using (var plain = Slmgen("time", spec, "--device", "cpu", "--batch", "2", "--steps", "2", "--device-profile", profile, "--json", records))
        {
            Assert.True(plain.ExitCode == 0, plain.ToString());
        }

        using (var recipe = Slmgen("time", spec, "--device", "cpu", "--batch", "2", "--steps", "2", "--device-profile", profile, "--json", records, "--ema-decay", "0.999", "--z-loss", "1e-4"))
        {
            Assert.True(recipe.ExitCode == 0, recipe.ToString());
        }

        var lines = File.ReadAllLines(records).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        Assert.False(lines[0].GetProperty("ema").GetBoolean());
        Assert.True(lines[1].GetProperty("ema").GetBoolean() && lines[1].GetProperty("z_loss").GetBoolean());
        Assert.True(lines[1].GetProperty("ms_per_step").GetDouble() > 0);
        // On this CPU (unfused) both add kernels: the prediction grows.
        Assert.True(lines[1].GetProperty("predicted_ms_per_step").GetDouble() > lines[0].GetProperty("predicted_ms_per_step").GetDouble());

        using (var costs = Slmgen("costs", spec, "--device", profile, "--batch", "2", "--json", "--ema-decay", "0.999"))
        {
            Assert.True(costs.ExitCode == 0, costs.ToString());
            var ms = JsonDocument.Parse(costs.Stdout).RootElement.GetProperty("models")[0].GetProperty("time").GetProperty("eagerMsPerStep").GetDouble();
            Assert.True(ms > lines[0].GetProperty("predicted_ms_per_step").GetDouble(), $"{ms} with the EMA");
        }

        // Settings that cannot apply: one line, exit 2, no stack trace.
        using (var noProfile = Slmgen("costs", spec, "--ema-decay", "0.999"))
        {
            Assert.Equal(2, noProfile.ExitCode);
            Assert.Contains("--device-profile", noProfile.Stderr);
            Assert.DoesNotContain("   at ", noProfile.Stderr);
        }

        using (var decode = Slmgen("time", spec, "--decode", "--device", "cpu", "--z-loss", "1e-4"))
        {
            Assert.Equal(2, decode.ExitCode);
            Assert.Contains("--decode", decode.Stderr);
        }

        using (var bad = Slmgen("time", spec, "--device", "cpu", "--ema-decay", "1"))
        {
            Assert.NotEqual(0, bad.ExitCode);
            Assert.Contains("below 1", bad.Stderr + bad.Stdout);
        }
    }
}

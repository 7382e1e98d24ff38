using System;
using System.IO;

namespace SlmGen.Cli.Tests;

/// <summary>
/// `--lora-lr` (the second lab's Q3 LoRA-rate arm) through the command line: a shared block with adapters trains with its
/// adapters at their own rate and says so in the trainer's groups; a model without adapters is told the setting does
/// nothing instead of ignoring it silently.
/// </summary>
public sealed class LoraRateTests : IDisposable
{
    private const string Shared = """
        name: TinyRecursive
        vocab: 65
        context: 16
        embedding: 32
        positions: rope
        layers:
          - transformer: { layers: 1, repeat: 2, lora_rank: 2, heads: 2, ffn: 2x, activation: relu2, norm: rmsnorm, attention_bias: false, ffn_bias: false }
        final_norm: rmsnorm
        head: tied
        """;

    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private SlmGenProcess Train(string spec, string run) => SlmGenProcess.Run(folder.Path, TimeSpan.FromMinutes(3),
        "train", spec, "--data", "shakespeare-char", "--steps", "4", "--batch", "2", "--eval-every", "4", "--eval-batches", "1", "--eval-tokens", "200",
        "--device", "cpu", "--lr", "1e-3", "--lora-lr", "8e-3", "--run-dir", Path.Combine(folder.Path, run));

    [Fact]
    public void Adapters_train_at_lora_lr_and_a_model_without_them_is_told_it_does_nothing()
    {
        using (var shared = Train(folder.File("shared.yaml", Shared), "shared"))
        {
            Assert.True(shared.ExitCode == 0, shared.ToString());
            Assert.DoesNotContain("has no effect", shared.Stdout);
        }

        // The same block without adapters: the run goes on, and the setting is named as doing nothing.
        using var plain = Train(folder.File("plain.yaml", Shared.Replace("repeat: 2, lora_rank: 2, ", string.Empty, StringComparison.Ordinal).Replace("TinyRecursive", "TinyPlain", StringComparison.Ordinal)), "plain");
        Assert.True(plain.ExitCode == 0, plain.ToString());
        Assert.Contains("lora_lr 0.008 has no effect: TinyPlain has no LoRA adapters", plain.Stdout.ReplaceLineEndings(" "));

        // Refused like every rate: a negative one is one error line.
        using var negative = SlmGenProcess.Run(folder.Path, TimeSpan.FromMinutes(2), "train", Path.Combine(folder.Path, "shared.yaml"), "--data", "shakespeare-char", "--steps", "1", "--lora-lr", "-1");
        Assert.NotEqual(0, negative.ExitCode);
        Assert.Contains("lora", negative.Stderr + negative.Stdout, StringComparison.OrdinalIgnoreCase);
    }
}

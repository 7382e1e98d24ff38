using System;
using System.Linq;
using System.Threading;
using SlmGen.Training;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// Training while another thread makes the garbage collector run all the time ends bit for bit where a quiet run ends
/// (SlmGen.HeldScalars: before the runtime held its scalars, a training run under this load crashed within a few hundred
/// steps with "Expected false to be true" from <c>c10::Scalar::toFloat</c>, or could read a freed value).
/// </summary>
public class ScalarLifetimeStressTests
{
    private static Tensor Train(string name, long steps, bool stressed, OptimizerKind optimizer)
    {
        var options = TestRuns.Quick(null, steps) with
        {
            EvalEvery = 100_000,
            OptimizerKind = optimizer,
            EmaDecay = 0.95,
            ZLoss = 1e-4,
            Schedule = Schedule.Warmdown,
        };
        using var stop = new CancellationTokenSource();
        var collections = GC.CollectionCount(0);
        var stress = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.KeepAlive(new byte[8192]);
            }
        })
        { IsBackground = true, Name = "gc-stress" };
        if (stressed)
        {
            stress.Start();
        }

        try
        {
            Devices.Seed(3);
            using var model = name == nameof(SingleAttention) ? new SingleAttention() : ModelCatalog.For(typeof(SingleAttention).Assembly).Single(d => d.Name == name).Create();
            using var trainer = new Trainer(model, TestRuns.Shakespeare.Value, options, CPU);
            trainer.Train();
            if (stressed)
            {
                // The stress did what it is for: many collections while the steps ran.
                Assert.True(GC.CollectionCount(0) - collections > 200, $"only {GC.CollectionCount(0) - collections} collections during the stressed run");
            }

            return trainer.Optimizer.Master.clone();
        }
        finally
        {
            stop.Cancel();
            if (stressed)
            {
                stress.Join();
            }
        }
    }

    /// <summary>A plain attention model with AdamW; the compact-model variants (bigram hash, U-Net skips, value residual, QK-norm, soft-capping, squared leaky ReLU, …) with Muon.</summary>
    [Theory]
    [InlineData("SingleAttention", 150, OptimizerKind.AdamW)]
    [InlineData("CompactVariants", 40, OptimizerKind.Muon)]
    public void Training_under_constant_collections_ends_where_a_quiet_run_ends(string name, long steps, OptimizerKind optimizer)
    {
        using var quiet = Train(name, steps, stressed: false, optimizer);
        using var stressed = Train(name, steps, stressed: true, optimizer);
        Assert.True(stressed.eq(quiet).all().item<bool>(), "the stressed run's weights differ from the quiet run's");
    }
}

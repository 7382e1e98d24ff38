using System;
using System.IO;
using System.Linq;
using SlmGen.Data;
using SlmGen.Training;
using TorchSharp;
using static TorchSharp.torch;
using SlmGen.IO;

namespace SlmGen.Runtime.Tests;

/// <summary>The trainer on CPU: exact resume, checkpoints, memory, the optimizer's numerics.</summary>
[HoldTensors]
public class TrainingTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper output;

    public TrainingTests(Xunit.Abstractions.ITestOutputHelper output) => this.output = output;

    private static readonly Lazy<TokenDataset> Shakespeare = TestRuns.Shakespeare;

    private static TrainingOptions Options(string? runDir, long steps = 12) => TestRuns.Quick(runDir, steps) with
    {
        Objective = Objective.EveryPosition,
        BatchSize = 4,
        WarmupSteps = 3,
        EvalEvery = 6,
        Validation = EvalProtocol.RandomBatches(2),
    };

    private static string TempDir() => TestRuns.TempDir("slmgen-run-");

    [Fact]
    public void An_interrupted_and_resumed_run_matches_an_uninterrupted_one_step_for_step()
    {
        Devices.Seed(5);
        using var straightModel = new SingleAttention();
        using var straight = new Trainer(straightModel, Shakespeare.Value, Options(TempDir()), CPU);
        var full = straight.Train();

        var dir = TempDir();
        Devices.Seed(5);
        using (var firstModel = new SingleAttention())
        using (var first = new Trainer(firstModel, Shakespeare.Value, Options(dir), CPU))
        {
            first.Train(maxSteps: 6); // stops after the evaluation and checkpoint at step 6
        }

        Devices.Seed(99); // a different start: everything must come from the checkpoint
        using var resumedModel = new SingleAttention();
        using var resumed = new Trainer(resumedModel, Shakespeare.Value, Options(dir), CPU);
        resumed.Resume(Path.Combine(dir, "last.ckpt"));
        Assert.Equal(6, resumed.Step);
        var rest = resumed.Train();

        var expected = full.Curve.Where(p => p.Step > 6).Select(p => p.TrainLoss).ToArray();
        var actual = rest.Curve.Select(p => p.TrainLoss).ToArray();
        Assert.Equal(6, actual.Length);
        Assert.Equal(expected, actual);
        Assert.True(straight.Optimizer.Master.allclose(resumed.Optimizer.Master, 0, 0), "final weights differ");
        Assert.Equal(full.Validation[^1].Nll, rest.Validation[^1].Nll);
    }

    [Fact]
    public void A_checkpoint_is_refused_by_another_architecture_with_a_clear_message()
    {
        var dir = TempDir();
        Devices.Seed(1);
        using (var model = new SingleAttention())
        using (var trainer = new Trainer(model, Shakespeare.Value, Options(dir, steps: 6), CPU))
        {
            trainer.Train();
        }

        using var other = new ThreeLayerTransformer();
        using var otherTrainer = new Trainer(other, Shakespeare.Value, Options(null), CPU);
        var ex = Assert.Throws<InvalidOperationException>(() => otherTrainer.Resume(Path.Combine(dir, "last.ckpt")));
        Assert.Contains("CharAttention", ex.Message);
        Assert.Contains("CharTransformer", ex.Message);
        Assert.Contains(other.Fingerprint, ex.Message);
    }

    [Fact]
    public void A_crash_while_writing_leaves_the_previous_checkpoint_intact()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "last.ckpt");
        Devices.Seed(1);
        using var model = new SingleAttention();
        using var trainer = new Trainer(model, Shakespeare.Value, Options(dir, steps: 6), CPU);
        trainer.Train();
        var before = File.ReadAllBytes(path);

        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(before, 0, before.Length / 2);
            throw new IOException("disk full (simulated)");
        }));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "best.ckpt", "last.ckpt" }, Directory.GetFiles(dir, "*ckpt*").Select(Path.GetFileName).Order());
        Assert.Equal(6, Checkpoint.ReadState(path).Step);
    }

    [Fact]
    public void A_torn_checkpoint_is_detected_at_load()
    {
        var dir = TempDir();
        Devices.Seed(1);
        using var model = new SingleAttention();
        using var trainer = new Trainer(model, Shakespeare.Value, Options(dir, steps: 6), CPU);
        trainer.Train();
        var path = Path.Combine(dir, "last.ckpt");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 1000)]);
        var torn = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains(path, torn.Message);
        bytes[^10] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path));
        Assert.Contains("damaged", ex.Message);
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void A_trainer_made_and_trained_inside_a_callers_scope_keeps_its_buffers_after_the_scope_ends()
    {
        // The EMA and the best weights live as long as the trainer: a scope the caller closes must not free them.
        Devices.Seed(1);
        using var model = new SingleAttention();
        var options = Options(null, steps: 12) with { EmaDecay = 0.9, EvalEvery = 4, LogEvery = 2 };
        Trainer trainer;
        using (NewDisposeScope())
        {
            trainer = new Trainer(model, Shakespeare.Value, options, CPU);
            trainer.Train(maxSteps: 8); // two evaluations: the best weights are kept
        }

        using (trainer)
        {
            var result = trainer.Train(); // uses the EMA every step and the best weights at the end
            Assert.Equal(12, trainer.Step);
            Assert.NotNull(result.Best);
            Assert.True(double.IsFinite(result.Best!.Nll), $"{result.Best.Nll}");
        }
    }

    [Fact]
    public void Memory_does_not_grow_over_many_steps()
    {
        Devices.Seed(1);
        using var model = new SingleAttention();
        var options = Options(null, steps: 60) with { EvalEvery = 20, LogEvery = 5 };
        using var trainer = new Trainer(model, Shakespeare.Value, options, CPU);
        trainer.Train(maxSteps: 10);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var live = torch.Tensor.TotalCount;
        trainer.Train(maxSteps: 50);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(60, trainer.Step);
        Assert.InRange(torch.Tensor.TotalCount, 0, live + 2);
    }

    [Fact]
    public void Flat_adamw_matches_torch_adamw()
    {
        static (nn.Module<Tensor, Tensor> Model, Tensor X, Tensor Y) Make()
        {
            manual_seed(3);
            var model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 4));
            return (model, randn(32, 8), randint(0, 4, new long[] { 32 }));
        }

        var (a, x, y) = Make();
        var (b, _, _) = Make();
        var flat = new FlatAdamW(a, new AdamWSettings(0.9, 0.99, 1e-8, WeightDecay: 0, GradientClip: 0));
        var reference = optim.AdamW(b.parameters(), lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weight_decay: 0);
        for (var step = 0; step < 5; step++)
        {
            nn.functional.cross_entropy(a.call(x), y).backward();
            flat.Step(1e-2);
            flat.ZeroGrad();
            reference.zero_grad();
            nn.functional.cross_entropy(b.call(x), y).backward();
            reference.step();
        }

        foreach (var ((_, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters()))
        {
            Assert.True(pa.allclose(pb, rtol: 1e-5, atol: 1e-6), "parameters diverged from torch's AdamW");
        }
    }

    [Fact]
    public void Flat_adamw_decays_matrices_only_and_clips_the_global_norm()
    {
        manual_seed(3);
        var model = nn.Linear(4, 3);
        var w0 = model.weight!.detach().clone();
        var b0 = model.bias!.detach().clone();
        var flat = new FlatAdamW(model, new AdamWSettings(WeightDecay: 0.5, GradientClip: 1.0));
        flat.Gradients.fill_(0); // a step with zero gradients moves weights by decay alone
        var norm = flat.Step(0.1);
        Assert.Equal(0.0, norm!.item<float>());
        Assert.True(model.weight!.allclose(w0 * (1 - 0.05)), "matrices decay by lr·wd");
        Assert.True(model.bias!.allclose(b0, 0, 0), "biases do not decay");

        flat.Gradients.fill_(10);
        var before = flat.Master.clone();
        flat.Step(0.1);
        // With clipping, Adam's first step moves each weight by about lr (the update is m/√v ≈ ±1).
        var moved = (flat.Master - before).abs().max().item<float>();
        Assert.InRange(moved, 0.05, 0.2);
    }

    [Fact]
    public void Bf16_compute_keeps_fp32_master_weights_and_bf16_views()
    {
        manual_seed(3);
        var model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 4));
        var x = randn(32, 8).to(ScalarType.BFloat16);
        var y = randint(0, 4, new long[] { 32 });
        using var flat = new FlatAdamW(model, new AdamWSettings(), ScalarType.BFloat16);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.Equal(ScalarType.Float32, flat.Master.dtype);
        var before = flat.Master.clone();
        var losses = new System.Collections.Generic.List<float>();
        for (var i = 0; i < 20; i++)
        {
            var loss = nn.functional.cross_entropy(model.call(x).to(ScalarType.Float32), y);
            losses.Add(loss.item<float>());
            loss.backward();
            Assert.True(flat.Gradients.abs().sum().to(ScalarType.Float32).item<float>() > 0, "the backward pass must accumulate into the flat gradient buffer");
            flat.Step(1e-2);
            flat.ZeroGrad();
        }

        Assert.False(flat.Master.allclose(before), "the master weights moved");
        var first = model.parameters().First();
        Assert.True(first.to(ScalarType.Float32).reshape(-1).allclose(flat.Master.narrow(0, 0, first.numel()).to(ScalarType.BFloat16).to(ScalarType.Float32), 0, 0),
            "the bf16 weights are the rounded master weights");
        Assert.True(losses[^1] < losses[0], $"the loss went from {losses[0]} to {losses[^1]}");
    }

    [Fact]
    public void Gathered_gradients_and_gradient_views_train_identically()
    {
        Tensor Train(bool gather)
        {
            manual_seed(7);
            var model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 4));
            manual_seed(8);
            var x = randn(32, 8);
            var y = randint(0, 4, new long[] { 32 });
            var flat = new FlatAdamW(model, new AdamWSettings(GatherGradients: gather));
            for (var i = 0; i < 5; i++)
            {
                nn.functional.cross_entropy(model.call(x), y).backward();
                flat.Step(1e-2);
                flat.ZeroGrad();
            }

            return flat.Master.clone();
        }

        Assert.True(Train(gather: true).allclose(Train(gather: false), 0, 0));
    }

    [Fact]
    public void Asking_for_cuda_graphs_where_they_cannot_run_trains_eagerly_the_same_and_says_why()
    {
        // On this machine (CPU, no libslmgen_native) the graphed step must fall back to the eager path with one line
        // of reason, and train exactly as without the option.
        (double Loss, string Log) Run(bool graphs)
        {
            Devices.Seed(3);
            using var model = new SingleAttention();
            var log = new StringWriter();
            using var trainer = new Trainer(model, Shakespeare.Value, Options(null, steps: 6) with { CudaGraphs = graphs }, CPU, log);
            return (trainer.Train().Curve[^1].TrainLoss, log.ToString());
        }

        var eager = Run(graphs: false);
        var asked = Run(graphs: true);
        Assert.Equal(eager.Loss, asked.Loss);
        Assert.Contains("CUDA graphs: off (the device is not CUDA); training eagerly.", asked.Log);
        Assert.DoesNotContain("CUDA graphs", eager.Log);
    }

    [Fact]
    public void Without_the_native_library_the_fused_step_refuses_with_the_reason()
    {
        Assert.False(SlmGen.Native.CudaNative.Available);
        Assert.Contains(SlmGen.Native.CudaNative.FileName, SlmGen.Native.CudaNative.Reason);
        var model = nn.Linear(4, 2);
        using var flat = new FlatAdamW(model, new AdamWSettings());
        using var lr = tensor(1e-3f);
        using var step = tensor(0f);
        var e = Assert.Throws<InvalidOperationException>(() => flat.StepOnDevice(lr, step));
        Assert.Contains("libslmgen_native is not available", e.Message);
    }

    [Fact]
    public void Without_the_native_library_the_layers_take_their_unfused_path_and_say_why()
    {
        // CPU tensors never take the fused path; the status line names the missing library.
        Assert.False(SlmGen.Native.FusedKernels.Applies(ones(2, 3)));
        Assert.False(SlmGen.Native.FusedKernels.Ready);
        // On unless SLMGEN_FUSED=0; switched off, the line says how; on, it names the missing library.
        var before = SlmGen.Native.FusedKernels.Enabled;
        try
        {
            SlmGen.Native.FusedKernels.Enabled = false;
            Assert.Contains("SLMGEN_FUSED=0", SlmGen.Native.FusedKernels.Status);
            SlmGen.Native.FusedKernels.Enabled = true;
            Assert.False(SlmGen.Native.FusedKernels.Ready);
            Assert.Contains(SlmGen.Native.CudaNative.FileName, SlmGen.Native.FusedKernels.Status);
        }
        finally
        {
            SlmGen.Native.FusedKernels.Enabled = before;
        }

        var rms = new SlmGen.Layers.RmsNorm(5);
        var x = randn(3, 5);
        var expected = x / (x.square().mean(new long[] { -1 }, keepdim: true) + 1e-6).sqrt();
        Assert.True(rms.call(x).allclose(expected, rtol: 1e-5, atol: 1e-6));
        var norm = nn.LayerNorm(5);
        Assert.False(SlmGen.Native.FusedKernels.TryAddNorm(norm, x, x, out _, out _));
        Assert.Equal(SlmGen.Native.FusedKernels.ReluSquared, SlmGen.Native.FusedKernels.KernelOf(Act.ReluSquared));
        Assert.Equal(-1, SlmGen.Native.FusedKernels.KernelOf(Act.Silu));
    }

    [Fact]
    public void The_next_token_loss_ignores_padded_columns_and_adds_the_z_loss()
    {
        // The unfused path of the loss SlmModel trains with (the fused kernel is checked against it on a GPU):
        // the padded columns take no probability and get no gradient; z-loss adds z · mean(logsumexp²).
        manual_seed(5);
        var logits = randn(6, 11, dtype: ScalarType.Float64).to(ScalarType.Float32).requires_grad_(true);
        var targets = tensor(new long[] { 0, 7, 3, 7, 1, 2 });
        var loss = SlmGen.Layers.NextTokenLoss.Mean(logits, targets, realVocab: 8, zLoss: 0.1);
        loss.backward();
        var real = logits.detach().to(ScalarType.Float64).narrow(1, 0, 8);
        var lse = real.logsumexp(1);
        var expected = (lse - real.gather(1, targets.unsqueeze(1)).squeeze(1) + (0.1 * lse.square())).mean().item<double>();
        Assert.Equal(expected, loss.item<float>(), 5);
        Assert.Equal(0.0, logits.grad!.narrow(1, 8, 3).abs().max().item<float>());
        Assert.True(logits.grad!.narrow(1, 0, 8).abs().max().item<float>() > 0.01);
        Assert.False(SlmGen.Native.FusedKernels.CrossEntropyApplies(logits, targets));
        Assert.False(SlmGen.Native.FusedKernels.RopeApplies(randn(1, 2, 3, 4), randn(3, 4)));
    }

    [Fact]
    public void Early_stopping_ends_the_run_after_the_patience_runs_out()
    {
        Devices.Seed(1);
        using var model = new SingleAttention();
        var options = Options(null, steps: 40) with { LearningRate = 0, Schedule = Schedule.Constant, EvalEvery = 4, EarlyStopPatience = 2 };
        using var trainer = new Trainer(model, Shakespeare.Value, options, CPU);
        var result = trainer.Train();
        Assert.True(result.StoppedEarly);
        Assert.Equal(12, trainer.Step); // best at the first evaluation (4), then two without improvement (8, 12)
        Assert.Equal(3, result.Validation.Count);
    }

    [Fact]
    public void A_run_directory_gets_checkpoints_metrics_and_tensorboard_events()
    {
        var dir = TempDir();
        Devices.Seed(1);
        using var model = new SingleAttention();
        using var trainer = new Trainer(model, Shakespeare.Value, Options(dir, steps: 6) with { TensorBoard = true }, CPU);
        var result = trainer.Train();
        Assert.True(File.Exists(Path.Combine(dir, "last.ckpt")));
        Assert.True(File.Exists(Path.Combine(dir, "best.ckpt")));
        var metrics = File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"));
        Assert.Equal(6 + 1, metrics.Length); // a train record per step (LogEvery = 1) and one validation
        Assert.Contains(metrics, l => l.Contains("\"kind\":\"validation\"") && l.Contains("\"nll\":"));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, "tensorboard"), "events.out.tfevents.*"));
        Assert.True(result.ExactTrainingFlops == 6.0 * 4 * model.Cost.TrainingFlopsPerWindow());
        Assert.Equal(6.0 * 4 * 128 * 6 * model.Cost.Parameters, result.SixNFlops);
    }

    [Fact]
    public void The_fast_path_reaches_the_plain_paths_validation_nll_on_a_short_shakespeare_run()
    {
        // The same model, batches and seed trained 60 steps three ways: TorchSharp's AdamW on per-tensor
        // gradients (the plain path), the flat AdamW in fp32, and the flat AdamW with bf16 compute over fp32
        // master weights (the GPU path, here on the CPU).
        double Run(string path)
        {
            Devices.Seed(21);
            using var model = new SingleAttention();
            var data = Shakespeare.Value;
            FlatAdamW? flat = null;
            optim.Optimizer? plain = null;
            if (path == "plain")
            {
                plain = optim.Adam(model.parameters(), lr: 3e-3, beta1: 0.9, beta2: 0.99, eps: 1e-8);
            }
            else
            {
                flat = new FlatAdamW(model, new AdamWSettings(0.9, 0.99, 1e-8, WeightDecay: 0, GradientClip: 0),
                    path == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32);
            }

            var sampler = new WindowSampler(data.Train.Length, model.Context, Sampling.Random, seed: 5);
            for (var step = 0; step < 60; step++)
            {
                using var scope = NewDisposeScope();
                using var batch = Windows.Make(data.Train, sampler.Next(8), model.Context, Objective.EveryPosition);
                var logits = model.Logits(batch.Inputs, lastPositionOnly: false);
                nn.functional.cross_entropy(logits.reshape(-1, 65).to(ScalarType.Float32), batch.Targets.reshape(-1)).backward();
                if (plain is not null)
                {
                    plain.step();
                    plain.zero_grad();
                }
                else
                {
                    flat!.Step(3e-3);
                    flat.ZeroGrad();
                }
            }

            var nll = Evaluator.Evaluate(model, data.Validation, EvalProtocol.Sequential(20_000), Objective.EveryPosition, 16, CPU).Nll;
            flat?.Dispose();
            plain?.Dispose();
            return nll;
        }

        var plainNll = Run("plain");
        var flatNll = Run("flat");
        var bf16Nll = Run("bf16");
        output.WriteLine($"validation NLL after 60 steps: plain {plainNll:0.0000}, flat fp32 {flatNll:0.0000}, flat bf16 {bf16Nll:0.0000}");
        Assert.InRange(plainNll, 2.0, 3.2);
        Assert.True(Math.Abs(flatNll - plainNll) < 1e-3, $"flat {flatNll} vs plain {plainNll}");
        Assert.True(Math.Abs(bf16Nll - plainNll) < 0.05, $"bf16 {bf16Nll} vs plain {plainNll}");
    }
}


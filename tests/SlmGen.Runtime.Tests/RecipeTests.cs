using System;
using System.IO;
using System.Linq;
using SlmGen.Data;
using SlmGen.Layers;
using SlmGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// The training recipes of today's compact models (issue 27): Muon for the hidden matrices with AdamW for the rest and
/// per-group learning rates, the warm-up–stable–decay schedule, an exponential moving average of the weights, z-loss.
/// </summary>
[HoldTensors]
public class RecipeTests
{
    private static SlmModel Create(string name) => ModelCatalog.For(typeof(SingleAttention).Assembly).Single(d => d.Name == name).Create();

    [Fact]
    public void Newton_schulz_keeps_the_singular_vectors_and_brings_the_singular_values_near_one()
    {
        manual_seed(7);
        // G = U · diag(s) · Vᵀ with singular values spread over a factor of 5, at an arbitrary scale.
        var (u, _) = linalg.qr(randn(24, 24, dtype: ScalarType.Float64));
        var (v, _) = linalg.qr(randn(40, 24, dtype: ScalarType.Float64));
        var s = linspace(0.2, 1.0, 24, dtype: ScalarType.Float64) * 37.0;
        var g = u.matmul(diag(s)).matmul(v.t()).to(ScalarType.Float32);
        foreach (var m in new[] { g, g.t() })
        {
            var o = FlatAdamW.NewtonSchulz(m, 5).to(ScalarType.Float64);
            var core = m.shape[0] == 24 ? u.t().matmul(o).matmul(v) : v.t().matmul(o).matmul(u); // diagonal when the singular vectors are kept
            var diagonal = core.diagonal();
            var off = (core - diag(diagonal)).abs().max().item<double>();
            Assert.True(off < 1e-3, $"off-diagonal {off}");
            Assert.True(diagonal.min().item<double>() > 0.6 && diagonal.max().item<double>() < 1.25, $"singular values {diagonal.min().item<double>()} … {diagonal.max().item<double>()}");
        }
    }

    [Fact]
    public void A_muon_step_orthogonalises_the_matrices_and_adamw_steps_the_rest_at_their_own_rates()
    {
        manual_seed(2);
        using var model = Create("LeverGqa");
        var options = new TrainingOptions
        {
            LearningRate = 1e-3,
            OptimizerKind = OptimizerKind.Muon,
            Muon = new MuonSettings(LearningRate: 0.05, Momentum: 0.9),
            EmbeddingLearningRate = 4e-3,
            GainLearningRate = 2e-3,
            Optimizer = new AdamWSettings(WeightDecay: 0.1, GradientClip: 0),
        };
        var flat = new FlatAdamW(model, options.Optimizer, ScalarType.Float32, OptimizerGroups.For(model, options), options.Muon);
        Assert.True(flat.Groups[0].Muon);

        using var idx = randint(0, 65, new long[] { 2, 33 });
        model.Loss(model.Features(idx.narrow(1, 0, 32)), idx.narrow(1, 1, 32)).backward();

        // The device step (what CUDA graphs capture) needs libslmgen_native for AdamW's fused kernel; without it the
        // refusal comes before anything moves, Muon's update (which needs no library) included.
        using (var master = flat.Master.clone())
        using (var rate = tensor(1e-3f))
        using (var count = tensor(0f))
        {
            Assert.Contains("libslmgen_native is not available", Assert.Throws<InvalidOperationException>(() => flat.StepOnDevice(rate, count)).Message);
            Assert.True(flat.Master.eq(master).all().item<bool>(), "the weights moved before the refusal");
            Assert.Equal(0f, count.item<float>());
        }

        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        flat.Step(1e-3);
        var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var roles = ParameterRoles.Of(model).ToDictionary(r => r.Name, r => r.Role);

        // A hidden matrix: W − lr_muon · √max(1, rows/cols) · NS(G) (the first step's Nesterov update is (1 − μ²)·G; NS ignores scale).
        var matrix = roles.First(r => r.Value == ParameterRole.Matrix).Key;
        var w = before[matrix];
        var expected = w - (0.05 * Math.Sqrt(Math.Max(1.0, (double)w.shape[0] / w.shape[1])) * FlatAdamW.NewtonSchulz(grads[matrix], 5));
        Assert.True(after[matrix].allclose(expected, rtol: 1e-4, atol: 1e-6), $"{matrix}: max difference {(after[matrix] - expected).abs().max().item<float>()}");

        // The embedding: AdamW's first step at 4e-3 with decay: W·(1 − lr·wd) − lr·sign(G) where |G| ≫ ε.
        var embedding = roles.First(r => r.Value == ParameterRole.Embedding).Key;
        var moved = (before[embedding] * (1 - (4e-3 * 0.1))) - after[embedding];
        var large = grads[embedding].abs() > 1e-5;
        Assert.True(moved.masked_select(large).allclose(grads[embedding].sign().masked_select(large) * 4e-3, rtol: 1e-3, atol: 1e-7));

        // A gain (norm scale): 2e-3 a step and no decay.
        var gain = roles.First(r => r.Value == ParameterRole.Gain && grads[r.Key].abs().min().item<float>() > 1e-5).Key;
        Assert.True((before[gain] - after[gain]).allclose(grads[gain].sign() * 2e-3, rtol: 1e-3, atol: 1e-7), gain);
    }

    [Fact]
    public void LoRA_adapters_are_their_own_role_and_take_lora_lr_with_adamw_even_under_muon()
    {
        manual_seed(4);
        using var model = Create("LeverSharedLora");
        var roles = ParameterRoles.Of(model).ToList();
        var adapters = roles.Where(r => r.Role == ParameterRole.Adapter).ToList();
        // One stored block applied 4 times, rank 8 on each of its 5 linear layers (the fused q/k/v projection, attention's
        // output, the FFN's gate, up and down): A and B each.
        Assert.Equal(4 * 5 * 2, adapters.Count);
        Assert.All(adapters, a => Assert.Contains("." + ParameterRoles.Adapters + ".", a.Name, StringComparison.Ordinal));
        Assert.DoesNotContain(roles, r => r.Role == ParameterRole.Matrix && r.Name.Contains(".lora.", StringComparison.Ordinal));

        // Without lora_lr the adapters share the hidden matrices' group (the flat layout of earlier checkpoints).
        var plain = OptimizerGroups.For(model, new TrainingOptions { LearningRate = 1e-3 });
        Assert.Equal(plain.Of(roles.First(r => r.Role == ParameterRole.Matrix).Name, null!), plain.Of(adapters[0].Name, null!));

        // With it: their own AdamW group at lora_lr / lr, also when the matrices take Muon.
        var options = new TrainingOptions
        {
            LearningRate = 1e-3, OptimizerKind = OptimizerKind.Muon, Muon = new MuonSettings(LearningRate: 0.05, Momentum: 0.9), AdapterLearningRate = 4e-3,
            Optimizer = new AdamWSettings(WeightDecay: 0, GradientClip: 0),
        };
        Assert.Empty(options.Problems());
        Assert.Contains((options with { AdapterLearningRate = -1 }).Problems(), p => p.Contains("LoRA adapters", StringComparison.Ordinal));
        var groups = OptimizerGroups.For(model, options);
        var adapterGroup = groups.Groups[groups.Of(adapters[0].Name, null!)];
        Assert.Equal(4.0, adapterGroup.LearningRateScale, 12);
        Assert.False(adapterGroup.Muon);
        Assert.True(groups.Groups[groups.Of(roles.First(r => r.Role == ParameterRole.Matrix).Name, null!)].Muon);

        var flat = new FlatAdamW(model, options.Optimizer, ScalarType.Float32, groups, options.Muon);
        using var idx = randint(0, 65, new long[] { 2, 33 });
        model.Loss(model.Features(idx.narrow(1, 0, 32)), idx.narrow(1, 1, 32)).backward();
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.detach().clone());
        flat.Step(1e-3);
        var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

        // An up projection (B, zero at the start, so the one with a gradient): AdamW's first step, lr_lora · G / (|G| + ε).
        var up = adapters.Select(a => a.Name).First(n => grads[n].abs().max().item<float>() > 1e-4);
        var large = grads[up].abs() > 1e-6;
        var step = (before[up] - after[up]).masked_select(large);
        var expected = (grads[up] / (grads[up].abs() + options.Optimizer.Epsilon)).masked_select(large) * 4e-3;
        Assert.True(step.allclose(expected, rtol: 1e-3, atol: 1e-7), $"{up}: step {step.abs().mean().item<float>()} mean, expected {expected.abs().mean().item<float>()}, max difference {(step - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void Warmdown_is_warm_up_then_the_peak_then_linear_to_the_minimum()
    {
        using var model = new SingleAttention();
        var options = TestRuns.Quick(null, 100) with { Schedule = Schedule.Warmdown, WarmupSteps = 10, WarmdownFraction = 0.3, LearningRate = 1, MinLearningRate = 0.1 };
        using var trainer = new Trainer(model, TestRuns.Shakespeare.Value, options, CPU);
        Assert.Equal(0.1, trainer.LearningRate(0), 12);
        Assert.Equal(1.0, trainer.LearningRate(9), 12);
        Assert.All(Enumerable.Range(10, 61), s => Assert.Equal(1.0, trainer.LearningRate(s), 12)); // stable through step 70
        Assert.Equal(0.55, trainer.LearningRate(85), 12);                                            // halfway down the last 30
        Assert.Equal(0.1 + (0.9 / 30), trainer.LearningRate(99), 12);                                // the last step; the minimum after it
        var decay = Enumerable.Range(70, 30).Select(s => trainer.LearningRate(s)).ToList();
        Assert.True(decay.Zip(decay.Skip(1)).All(p => p.First - p.Second is > 0.0299 and < 0.0301), "linear");
    }

    [Fact]
    public void With_a_time_limit_the_decay_follows_the_time_when_it_is_ahead_of_the_steps()
    {
        var options = TestRuns.Quick(null, 100) with { Schedule = Schedule.Warmdown, WarmupSteps = 10, WarmdownFraction = 0.3, LearningRate = 1, MinLearningRate = 0.1, TimeLimit = TimeSpan.FromMinutes(1) };
        // Time behind the steps: the step schedule.
        Assert.Equal(options.LearningRateAt(85), options.LearningRateAt(85, 0.5), 12);
        // Time ahead: the peak's weight is (1 − share) / 0.3 — 0.5 at 85 % of the time, 0 once it is spent; warm-up stays in steps.
        Assert.Equal(0.1 + (0.5 * 0.9), options.LearningRateAt(20, 0.85), 12);
        Assert.Equal(1.0, options.LearningRateAt(20, 0.6), 12);
        Assert.Equal(0.1, options.LearningRateAt(20, 1.0), 12);
        Assert.Equal(0.2, options.LearningRateAt(1, 0.9), 12);
        // Cosine: the cosine of the time's share after the warm-up's share of the steps.
        var cosine = options with { Schedule = Schedule.WarmupCosine };
        Assert.Equal(0.1 + (0.5 * 0.9), cosine.LearningRateAt(20, 0.1 + (0.9 * 0.5)), 9);
        Assert.Empty(options.Problems());
        Assert.Contains((options with { TimeLimit = TimeSpan.Zero }).Problems(), p => p.Contains("time limit", StringComparison.Ordinal));
    }

    [Fact]
    public void A_time_limited_run_ends_when_its_training_time_is_spent_and_a_resume_keeps_the_clock()
    {
        Devices.Seed(3);
        var dir = TestRuns.TempDir("slmgen-timed-");
        var options = TestRuns.Quick(dir, 1_000_000) with { TimeLimit = TimeSpan.FromSeconds(1.5), EvalEvery = 1_000_000, Schedule = Schedule.Warmdown, WarmupSteps = 1 };
        double seconds;
        using (var model = new SingleAttention())
        using (var trainer = new Trainer(model, TestRuns.Shakespeare.Value, options, CPU))
        {
            var result = trainer.Train();
            Assert.InRange(result.Steps, 1, 999_999);
            Assert.False(result.Interrupted);
            Assert.True(trainer.TrainingSeconds >= 1.5, $"{trainer.TrainingSeconds} s");
            Assert.Equal(trainer.TrainingSeconds, result.TrainingSeconds); // the result reports the limit's own clock
            Assert.True(result.TrainingSeconds <= result.Seconds - result.EvalSeconds + 1e-9, $"{result.TrainingSeconds} s of {result.Seconds - result.EvalSeconds}");
            Assert.Single(result.Validation); // the run's end is evaluated
            Assert.Equal(options.MinLearningRate, trainer.LearningRate(trainer.Step), 12); // the warmdown ended with the time
            seconds = trainer.TrainingSeconds;
        }

        // The checkpoint keeps the clock: a resume of the finished run takes no further step.
        using var again = new SingleAttention();
        using var resumed = new Trainer(again, TestRuns.Shakespeare.Value, options, CPU);
        resumed.Resume(resumed.LastCheckpointPath!);
        Assert.Equal(seconds, resumed.TrainingSeconds, 9);
        Assert.Equal(0, resumed.Train().Steps);
    }

    [Fact]
    public void The_ema_is_the_warmed_up_average_of_the_weights_after_every_step_and_the_run_ends_with_it()
    {
        Devices.Seed(4);
        using var model = new SingleAttention();
        var options = TestRuns.Quick(null, 5) with { EmaDecay = 0.8, EvalEvery = 100 };
        using var trainer = new Trainer(model, TestRuns.Shakespeare.Value, options, CPU);
        var expected = trainer.Optimizer.Master.clone();
        for (var step = 0; step < 4; step++)
        {
            trainer.Train(maxSteps: 1);
            var d = Math.Min(0.8, (1.0 + step) / (10.0 + step));
            expected = (d * expected) + ((1 - d) * trainer.Optimizer.Master);
            Assert.True(trainer.Ema!.allclose(expected, rtol: 1e-6, atol: 1e-7), $"step {step + 1}");
        }

        var raw = trainer.Optimizer.Master.clone();
        trainer.Train(); // the last step, its evaluation (of the average), and the end of the run
        Assert.False(trainer.Optimizer.Master.allclose(raw));
        Assert.True(trainer.Optimizer.Master.allclose(trainer.Ema!), "the run ends with the average's weights");

        // What sample, eval and export load from last.ckpt is that average too, not the raw weights it keeps for a resume.
        var dir = TestRuns.TempDir("slmgen-ema-");
        using var saved = new Trainer(model, TestRuns.Shakespeare.Value, options with { RunDirectory = dir }, CPU);
        saved.Train();
        using var loaded = new SingleAttention();
        Checkpoint.LoadWeights(loaded, saved.LastCheckpointPath!, CheckpointWeights.Latest);
        var average = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.All(loaded.named_parameters(), p => Assert.True(p.parameter.allclose(average[p.name]), p.name));
    }

    [Fact]
    public void A_resumed_run_continues_the_ema_and_muon_exactly()
    {
        var options = TestRuns.Quick(null, 6) with { EmaDecay = 0.9, OptimizerKind = OptimizerKind.Muon, EvalEvery = 100, Schedule = Schedule.Warmdown };
        Devices.Seed(1);
        using var straightModel = new SingleAttention();
        using var straight = new Trainer(straightModel, TestRuns.Shakespeare.Value, options with { RunDirectory = TestRuns.TempDir("slmgen-recipe-") }, CPU);
        straight.Train(maxSteps: 6);

        var dir = TestRuns.TempDir("slmgen-recipe-");
        Devices.Seed(1);
        using (var firstModel = new SingleAttention())
        using (var first = new Trainer(firstModel, TestRuns.Shakespeare.Value, options with { RunDirectory = dir }, CPU))
        {
            first.Train(maxSteps: 3);
            first.SaveCheckpoint(first.LastCheckpointPath!);
        }

        using var secondModel = new SingleAttention();
        using var second = new Trainer(secondModel, TestRuns.Shakespeare.Value, options with { RunDirectory = dir }, CPU);
        second.Resume(second.LastCheckpointPath!);
        second.Train(maxSteps: 3);
        Assert.True(second.Ema!.allclose(straight.Ema!, rtol: 0, atol: 0), "EMA");
        Assert.True(second.Optimizer.FirstMoment.allclose(straight.Optimizer.FirstMoment, rtol: 0, atol: 0), "Muon's momentum and AdamW's first moments");
        Assert.True(second.Optimizer.Master.allclose(straight.Optimizer.Master, rtol: 0, atol: 0), "weights");
    }

    [Fact]
    public void Z_loss_adds_the_squared_log_normaliser_and_the_chunked_loss_agrees()
    {
        manual_seed(5);
        using var model = Create("LeverGqa");
        model.eval(); // no dropout: the chunked loss runs the body again
        using var idx = randint(0, 65, new long[] { 2, 33 });
        var (x, y) = (idx.narrow(1, 0, 32), idx.narrow(1, 1, 32));
        using var features = model.Features(x);
        var logits = model.Head(features).reshape(-1, 65);
        var expected = nn.functional.cross_entropy(logits, y.reshape(-1)) + (0.01 * logits.logsumexp(-1).square().mean());
        Assert.True(model.Loss(features, y, 0.01).allclose(expected, rtol: 1e-5));
        Assert.True(model.Loss(features, y, 0).allclose(model.Loss(features, y), rtol: 0, atol: 0));
        var chunked = ChunkedCrossEntropy.Backward(model, x, y, 8, 0.01);
        Assert.True(chunked.allclose(expected.detach(), rtol: 1e-5));
    }

    [Fact]
    public void Recipe_options_out_of_range_are_refused_with_their_reasons()
    {
        var bad = new TrainingOptions { WarmdownFraction = 1.5, EmaDecay = 1, ZLoss = -1, Muon = new MuonSettings(Momentum: 1, NewtonSchulzSteps: 0), EmbeddingLearningRate = double.NaN };
        var problems = string.Join("\n", bad.Problems());
        foreach (var what in new[] { "warmdown fraction", "EMA decay", "z-loss", "Muon's momentum", "Newton–Schulz", "embeddings" })
        {
            Assert.Contains(what, problems);
        }
    }
}

/// <summary>Evaluation protocols (issue 27): the whole split with sliding windows, every token scored once.</summary>
[HoldTensors]
public class SlidingEvaluationTests
{
    [Fact]
    public void Sliding_windows_score_every_token_once_with_the_windows_the_docs_give()
    {
        using var model = new SingleAttention();
        var c = model.Context;
        var data = TestRuns.Shakespeare.Value.Validation.Take((2 * c) + 3).ToArray();
        var result = Evaluator.Evaluate(model, data, EvalProtocol.Sliding(c / 2), Objective.EveryPosition, 2, CPU);
        Assert.Equal((2 * c) + 2, result.Tokens);
        Assert.Contains("stride", result.Protocol);

        // By hand for n = 2c + 3, stride c/2: windows at 0 (all c positions), c/2 and c (their last c/2), and c + 2,
        // ending at the last token (its last 2).
        model.eval();
        double total = 0;
        foreach (var (start, from) in new[] { (0, 0), (c / 2, c / 2), (c, c / 2), (c + 2, c - 2) })
        {
            using var x = tensor(data.Skip(start).Take(c).Select(t => (long)t).ToArray()).view(1, c);
            using var y = tensor(data.Skip(start + 1).Take(c).Select(t => (long)t).ToArray());
            using var logits = model.Logits(x, lastPositionOnly: false).view(c, -1);
            using var losses = nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.None);
            total += losses.narrow(0, from, c - from).sum().item<float>();
        }

        Assert.Equal(total / ((2 * c) + 2), result.Nll, 5);
    }

    [Fact]
    public void A_stride_of_the_context_over_whole_windows_is_the_sequential_protocol()
    {
        using var model = new SingleAttention();
        var c = model.Context;
        var data = TestRuns.Shakespeare.Value.Validation.Take((5 * c) + 1).ToArray();
        var sliding = Evaluator.Evaluate(model, data, EvalProtocol.Sliding(c), Objective.EveryPosition, 4, CPU);
        var sequential = Evaluator.Evaluate(model, data, EvalProtocol.Sequential(), Objective.EveryPosition, 4, CPU);
        Assert.Equal(sequential.Tokens, sliding.Tokens);
        Assert.Equal(sequential.Nll, sliding.Nll, 5); // the same windows; fp32 sums in another order
        Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(model, data, EvalProtocol.Sliding(c + 1), Objective.EveryPosition, 4, CPU));
    }
}

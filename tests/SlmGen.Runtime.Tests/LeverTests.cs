using SlmGen.Data;
using SlmGen.Training;
using System.Linq;
using SlmGen.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>The compact-model levers on real tensors: grouped-query attention, shared blocks with LoRA.</summary>
[HoldTensors]
public class LeverTests
{
    private static ModelDescriptor Find(string name) => ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples." + name);

    [Fact]
    public void A_model_with_lora_adapters_moves_between_dtypes_and_devices_and_starts_as_its_shared_block()
    {
        using var model = Find("LeverSharedLora").Create();
        model.to(ScalarType.Float64).to(ScalarType.Float32).to(CPU);
        var adapters = model.modules().OfType<LoraAdapter>().ToList();
        Assert.Equal(4 * 5, adapters.Count); // 4 applications × (qkv, proj, fc, gate, proj) of one SwiGLU block
        // B starts at zero, so every application begins as the shared block itself.
        Assert.All(model.named_parameters().Where(p => p.name.EndsWith("B.weight", System.StringComparison.Ordinal)),
            p => Assert.Equal(0.0, p.parameter.abs().max().item<float>()));
    }

    [Fact]
    public void Grouped_query_attention_equals_multi_head_attention_with_repeated_key_value_weights()
    {
        // 4 query heads over 2 k/v heads: the same output as full attention whose k/v weights repeat each
        // k/v head for its group of 2 query heads.
        manual_seed(3);
        const int d = 16, heads = 4, kv = 2, hd = d / heads;
        var mhaConfig = new AttentionConfig(Heads: heads, KvHeads: heads, HeadDim: hd, PackedQkv: false, Bias: false, Dropout: 0, Context: 8, Rope: new RopeConfig(10000), WeightBits: 0);
        var gqa = new CausalSelfAttention(d, mhaConfig with { KvHeads = kv });
        var mha = new CausalSelfAttention(d, mhaConfig);
        using (no_grad())
        {
            var g = gqa.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var m = mha.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            m["q_proj.weight"].copy_(g["q_proj.weight"]);
            m["proj.weight"].copy_(g["proj.weight"]);
            foreach (var name in new[] { "k_proj.weight", "v_proj.weight" })
            {
                // (kv·hd, d) → (heads·hd, d): each k/v head's rows repeated for its group.
                m[name].copy_(g[name].view(kv, hd, d).repeat_interleave(heads / kv, 0).reshape(heads * hd, d));
            }
        }

        gqa.eval();
        mha.eval();
        var x = randn(2, 8, d);
        var difference = (gqa.call(x) - mha.call(x)).abs().max().item<float>();
        Assert.True(difference < 1e-5, $"max difference {difference}");
        Assert.Equal((d * d) + (2 * d * kv * hd) + (d * d), gqa.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData(8)]
    [InlineData(6)]
    [InlineData(5)]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(2)]
    public void Fake_quantisation_rounds_each_row_to_its_grid_and_passes_gradients_straight_through(int bits)
    {
        manual_seed(5);
        var w = randn(6, 10).requires_grad_();
        var q = FakeQuant.Weight(w, bits);
        var levels = FakeQuant.Levels(bits);
        var scales = FakeQuant.Scales(w, bits);
        var codes = (q.detach() / scales).round();
        Assert.True((codes - q.detach() / scales).abs().max().item<float>() < 1e-3, "every value on the grid");
        Assert.True(codes.abs().max().item<float>() <= levels);
        for (var row = 0; row < 6; row++)
        {
            Assert.True(codes[row].unique().Item1.numel() <= (2 * levels) + 1);
        }

        q.sum().backward();
        Assert.True((w.grad! - ones_like(w)).abs().max().item<float>() == 0, "straight-through: the gradient of the rounding is 1");
        Assert.Equal(2 * levels + 1, bits switch { 8 => 255, 6 => 63, 5 => 31, 4 => 15, 3 => 7, _ => 3 });
    }

    [Fact]
    public void A_qat_model_keeps_the_parameter_names_and_costs_of_its_full_precision_shape()
    {
        using var qat = Find("LeverQat").Create();
        using var full = Find("LeverGqa").Create();
        Assert.Equal(full.named_parameters().Select(p => p.name).OrderBy(n => n), qat.named_parameters().Select(p => p.name).OrderBy(n => n));
        Assert.Equal(full.Cost.Parameters, qat.Cost.Parameters);
        Assert.Equal(full.Cost.TrainingFlopsPerToken, qat.Cost.TrainingFlopsPerToken);
        Assert.Equal(8, qat.EmbeddingWeightBits);
        Assert.True(qat.Cost.WeightBytesDeclared < full.Cost.WeightBytesBf16 / 3, $"{qat.Cost.WeightBytesDeclared} bytes declared vs {full.Cost.WeightBytesBf16} in bf16");
        Assert.Equal(full.Cost.WeightBytesFp32, full.Cost.WeightBytesDeclared);
    }
}

/// <summary>The chunked loss: the same loss and gradients as the full cross-entropy, without the full logits.</summary>
[HoldTensors]
public class ChunkedLossTests
{
    [Theory]
    [InlineData("LeverQat")]          // tied head, fake-quantised
    [InlineData("LeverSharedLora")]   // shared block with LoRA
    [InlineData("CharTransformerRope")] // factorised head with bias
    [InlineData("Gpt2Padded")]        // padded vocabulary of 50,304
    [InlineData("LeverGroupedHead")]  // two softmaxes
    public void The_chunked_loss_and_gradients_equal_the_full_cross_entropys(string name)
    {
        var descriptor = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples." + name);
        Devices.Seed(7);
        using var model = descriptor.Create();
        model.train(false); // dropout off: both passes see the same function
        var t = model.Context;
        using var idx = randint(0, model.DeclaredVocab, new long[] { 2, t + 1 }, dtype: ScalarType.Int64);
        var inputs = idx.narrow(1, 0, t);
        var targets = idx.narrow(1, 1, t);

        var logits = model.RealTokens(model.Logits(inputs, lastPositionOnly: false)); // the declared vocabulary's columns (pad_vocab_to)
        var full = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1)); // log-probabilities for a grouped head: the same NLL
        full.backward();
        var fullGrads = model.parameters().Select(p => p.grad!.clone()).ToList();
        foreach (var p in model.parameters())
        {
            p.grad = null;
        }

        var chunked = SlmGen.Training.ChunkedCrossEntropy.Backward(model, inputs, targets, chunk: t / 3 + 1);
        Assert.Equal(full.item<float>(), chunked.item<float>(), 4);
        foreach (var (expected, p) in fullGrads.Zip(model.parameters()))
        {
            var err = ((p.grad! - expected).abs().max() / expected.abs().max().clamp_min(1e-12)).item<float>();
            Assert.True(err < 1e-4, $"{name}: gradient differs by {err} (relative)");
        }
    }

    [Fact]
    public void Training_with_a_chunked_loss_follows_the_full_losss_curve()
    {
        double[] Curve(int chunk)
        {
            Devices.Seed(5);
            using var model = new SlmGen.Samples.LeverGqa();
            var options = new TrainingOptions { BatchSize = 2, Steps = 5, EvalEvery = 5, Validation = EvalProtocol.RandomBatches(1), LogEvery = 1, Progress = false, TensorBoard = false, LossChunk = chunk, Seed = 3 };
            using var trainer = new Trainer(model, Corpora.TinyShakespeare(CharSplit.NanoGpt), options, CPU);
            return trainer.Train().Curve.Select(c => c.TrainLoss).ToArray();
        }

        var full = Curve(0);
        var chunked = Curve(40);
        Assert.Equal(full.Length, chunked.Length);
        for (var i = 0; i < full.Length; i++)
        {
            Assert.Equal(full[i], chunked[i], 3);
        }
    }
}

/// <summary>The grouped head: its two-softmax loss is the NLL of the distribution it gives.</summary>
[HoldTensors]
public class GroupedHeadTests
{
    [Fact]
    public void The_two_softmax_loss_equals_the_nll_of_the_full_distribution_and_it_sums_to_one()
    {
        var descriptor = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGroupedHead");
        Devices.Seed(9);
        using var model = descriptor.Create();
        model.eval();
        using var noGrad = no_grad();
        using var idx = randint(0, 8192, new long[] { 2, 129 }, dtype: ScalarType.Int64);
        var inputs = idx.narrow(1, 0, 128);
        var targets = idx.narrow(1, 1, 128);
        var logProbs = model.Logits(inputs, lastPositionOnly: false);
        Assert.Equal(new long[] { 2, 128, 8192 }, logProbs.shape);
        Assert.True(logProbs.exp().sum(-1).allclose(ones(2, 128), rtol: 1e-5, atol: 1e-5), "p(group) · p(position) sums to one over the vocabulary");
        var nll = nn.functional.nll_loss(logProbs.reshape(-1, 8192), targets.reshape(-1)).item<float>();
        var loss = model.Loss(model.Features(inputs), targets).item<float>();
        Assert.Equal(nll, loss, 4);
        Assert.Equal(64L * 128 + 128L * 128, model.named_parameters().Where(p => p.name.StartsWith("lm_head", System.StringComparison.Ordinal)).Sum(p => p.parameter.numel()));
    }

    [Theory]
    [InlineData(10, 4, 10, false)]   // the groups do not divide the vocabulary: the last group has one real id in three slots
    [InlineData(10, 4, 7, false)]    // padded ids too: group 2 is partial, group 3 holds none
    [InlineData(12, 4, 12, false)]   // divides: nothing masked
    [InlineData(100, 7, 93, false)]
    [InlineData(10, 4, 10, true)]    // conditioned on the group: the same masks, each group's positions from its gated features
    [InlineData(10, 4, 7, true)]
    [InlineData(12, 4, 12, true)]
    [InlineData(100, 7, 93, true)]
    public void Probabilities_sum_to_one_over_the_real_ids_and_the_loss_is_their_nll(int vocab, int groups, int real, bool conditioned)
    {
        Devices.Seed(11);
        using var head = new SlmGen.Layers.GroupedHead(16, groups, vocab, realVocab: real, conditioned: conditioned);
        using var noGrad = no_grad();
        if (conditioned)
        {
            head.Gate!.copy_(randn(groups, 16)); // gates far from their start (0), so each group sees other features
        }

        using var x = randn(3, 5, 16) * 3; // perturbed: far from uniform
        var logProbs = head.call(x);
        Assert.Equal(new long[] { 3, 5, vocab }, logProbs.shape);
        var probabilities = logProbs.exp();
        Assert.True(probabilities.narrow(-1, 0, real).sum(-1).allclose(ones(3, 5), rtol: 1e-5, atol: 1e-5), "the real ids' probabilities sum to one");
        if (real < vocab)
        {
            Assert.Equal(0f, probabilities.narrow(-1, real, vocab - real).sum().item<float>());
        }

        using var targets = randint(0, real, new long[] { 3, 5 }, dtype: ScalarType.Int64);
        var nll = nn.functional.nll_loss(logProbs.reshape(-1, vocab), targets.reshape(-1)).item<float>();
        Assert.Equal(nll, head.Loss(x, targets).item<float>(), 4);
    }
}

/// <summary>The conditioned grouped head: it starts as the unconditioned one, and its gates learn.</summary>
[HoldTensors]
public class ConditionedGroupedHeadTests
{
    [Fact]
    public void With_its_gates_at_zero_it_is_the_unconditioned_head_and_the_loss_trains_the_gate_of_the_targets_group_only()
    {
        Devices.Seed(21);
        using var plain = new SlmGen.Layers.GroupedHead(16, 5, 23);
        using var conditioned = new SlmGen.Layers.GroupedHead(16, 5, 23, conditioned: true);
        using (no_grad())
        {
            foreach (var (name, p) in plain.named_parameters())
            {
                conditioned.get_parameter(name)!.copy_(p);
            }
        }

        using var x = randn(2, 6, 16) * 2;
        Assert.True(conditioned.call(x).allclose(plain.call(x), rtol: 1e-5, atol: 1e-6), "gates at 0: the same distribution");
        Assert.Equal(5L * 16, conditioned.parameters().Sum(p => p.numel()) - plain.parameters().Sum(p => p.numel()));

        // Targets in groups 0 and 2 only (group size 5): those gates get gradients, the others none.
        using var targets = tensor(new long[] { 0, 4, 11, 12, 1, 10, 3, 14, 2, 13, 0, 11 }).reshape(2, 6);
        conditioned.Loss(x, targets).backward();
        var gradient = conditioned.Gate!.grad!.abs().sum(-1);
        Assert.True(gradient[0].item<float>() > 0 && gradient[2].item<float>() > 0, "the targets' groups' gates learn");
        Assert.Equal(0f, gradient[1].item<float>() + gradient[3].item<float>() + gradient[4].item<float>());
    }

    [Fact]
    public void The_runtime_counter_counts_the_loss_path_for_training_and_every_group_for_the_distribution()
    {
        var descriptor = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGroupedHeadConditioned");
        using var model = descriptor.Create();
        var measured = CostProbe.Measure(model, batch: 2);
        Assert.Equal(descriptor.Cost.Parameters, measured.Parameters);
        Assert.Equal(descriptor.Cost.ForwardFlopsPerToken, measured.ForwardFlopsPerPrediction);
        Assert.Equal(descriptor.Cost.TrainingFlopsPerToken, measured.TrainingFlopsPerPrediction);
        Assert.True(descriptor.Cost.TrainingFlopsPerToken < 3 * descriptor.Cost.ForwardFlopsPerToken, "training scores the target's group only");
        var gate = ParameterRoles.Of(model).Single(p => p.Name == "lm_head.gate");
        Assert.Equal(ParameterRole.Gain, gate.Role); // not a matrix for Muon or for initialisation: it starts at 0
        Assert.Equal(0f, gate.Parameter.abs().sum().item<float>());
    }
}

/// <summary>pad_vocab_to: the padded ids take no probability in the loss or the evaluation.</summary>
[HoldTensors]
public class PaddedVocabularyTests
{
    [Fact]
    public void The_loss_and_the_evaluation_normalise_over_the_declared_vocabulary_only()
    {
        var descriptor = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.Gpt2Padded");
        Devices.Seed(13);
        using var model = descriptor.Create();
        model.eval();
        using var noGrad = no_grad();
        foreach (var p in model.parameters())
        {
            p.add_(randn_like(p) * 0.05); // perturbed weights: padded rows score like real ones
        }

        var tokens = Enumerable.Range(0, 2 * model.Context + 1).Select(i => (i * 7919) % model.DeclaredVocab).ToArray();
        using var idx = tensor(tokens.Take(model.Context + 1).Select(t => (long)t).ToArray()).unsqueeze(0);
        var logits = model.Logits(idx.narrow(1, 0, model.Context), lastPositionOnly: false);
        var targets = idx.narrow(1, 1, model.Context).reshape(-1);
        var real = nn.functional.cross_entropy(logits.narrow(-1, 0, model.DeclaredVocab).reshape(-1, model.DeclaredVocab), targets).item<float>();
        var padded = nn.functional.cross_entropy(logits.reshape(-1, model.Vocab), targets).item<float>();
        Assert.True(padded - real > 1e-4, $"the padded ids would take mass: {padded} vs {real}");
        Assert.Equal(real, model.Loss(model.Features(idx.narrow(1, 0, model.Context)), idx.narrow(1, 1, model.Context)).item<float>(), 5);
        var evaluated = Evaluator.Evaluate(model, tokens.Take(model.Context + 1).ToArray(), EvalProtocol.Sequential(), Objective.EveryPosition, 1, CPU);
        Assert.Equal(real, evaluated.Nll, 4);
    }
}

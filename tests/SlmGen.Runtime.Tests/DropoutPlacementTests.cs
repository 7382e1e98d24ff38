using System.Linq;
using SlmGen.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>Where dropout sits: the FFN's own dropout, and the study models' placement as their specs declare it.</summary>
[HoldTensors]
public class DropoutPlacementTests
{
    [Fact]
    public void Ffn_dropout_acts_in_training_only_and_leaves_the_weights_alone()
    {
        torch.manual_seed(7);
        var config = new FeedForwardConfig(Hidden: 64, Activation: Act.Relu, Bias: true, Dropout: 0.5, WeightBits: 0);
        using var withDropout = new FeedForward(16, config);
        using var plain = new FeedForward(16, config with { Dropout = 0 });
        plain.load_state_dict(withDropout.state_dict());
        using var x = torch.randn(32, 16);

        withDropout.eval();
        plain.eval();
        using (var a = withDropout.call(x))
        using (var b = plain.call(x))
        {
            Assert.True(a.allclose(b), "in evaluation the FFN's dropout is the identity");
        }

        withDropout.train();
        using var first = withDropout.call(x);
        using var second = withDropout.call(x);
        using var reference = plain.call(x);
        Assert.False(first.allclose(second), "a fresh mask on every call in training");
        Assert.False(first.allclose(reference));
        Assert.Equal(plain.parameters().Sum(p => p.numel()), withDropout.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("CharTransformer", 9)]   // 3 blocks × (attention branch, FFN branch, inside the FFN); none on the embeddings
    [InlineData("CharAttention", 3)]
    [InlineData("CharMlp", 2)]           // after each hidden layer; none on the embedded window
    [InlineData("CharLinear", 0)]        // the study's linear model has no dropout
    public void The_study_models_have_dropout_where_their_specs_put_it(string model, int dropoutModules)
    {
        var descriptor = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples." + model);
        using var m = descriptor.Create();
        var dropouts = m.named_modules().Where(n => n.module is Dropout).Select(n => n.name).ToList();
        Assert.Equal(dropoutModules, dropouts.Count);
        Assert.DoesNotContain("drop", dropouts);
    }
}

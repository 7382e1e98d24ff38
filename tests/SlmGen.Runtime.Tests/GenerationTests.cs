using System.Linq;
using SlmGen.Data;
using SlmGen.Generation;
using SlmGen.Samples.Declared;
using SlmGen.Training;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

public class GenerationTests
{
    [Fact]
    public void Sampling_is_repeatable_with_a_seed_and_decodes_through_the_vocabulary()
    {
        var data = Corpora.TinyShakespeare(CharSplit.NanoGpt);
        Devices.Seed(2);
        using var model = new SingleAttention();
        var prompt = data.Tokenizer.Encode("ROMEO:");
        var a = TextGenerator.Generate(model, prompt, 40, temperature: 0.9, topK: 10, seed: 4);
        var b = TextGenerator.Generate(model, prompt, 40, temperature: 0.9, topK: 10, seed: 4);
        var c = TextGenerator.Generate(model, prompt, 40, temperature: 0.9, topK: 10, seed: 5);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(40, a.Length);
        Assert.Equal(40, data.Tokenizer.Decode(a).Length);
    }

    [Fact]
    public void Flatten_models_sample_from_a_padded_window()
    {
        Devices.Seed(2);
        using var model = new LinearPredictor();
        var tokens = TextGenerator.Generate(model, new[] { 5, 6, 7 }, 10, topK: 1, seed: 1);
        Assert.Equal(10, tokens.Length);
        Assert.All(tokens, t => Assert.InRange(t, 0, 64));
    }
}

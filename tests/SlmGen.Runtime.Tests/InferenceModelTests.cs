using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SlmGen.Inference;
using SlmGen.Interop;
using SlmGen.Onnx;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>SlmGen.Inference's LanguageModel on a sample model's decode graph: synchronous and asynchronous streams agree; cancellation stops it.</summary>
public class InferenceModelTests
{
    private static LanguageModel Load(out TokenizerJson tokenizer)
    {
        manual_seed(13);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGqa").Create();
        model.eval();
        tokenizer = TokenizerJson.Parse(HuggingFaceTokenizer.Json(TestRuns.Shakespeare.Value.Tokenizer)!);
        var manifest = new ModelManifest(ModelManifest.FormatName, ModelManifest.CurrentVersion, model.GetName(), model.DeclaredVocab, (int)model.Vocab, model.Context,
            "model-decode.onnx", "model.onnx", "tokenizer.json", null, null, "fp32", "test");
        return LanguageModel.FromGraph(OnnxExport.Build(model, decode: true), manifest, tokenizer);
    }

    [Fact]
    public async Task StreamAsync_gives_Streams_pieces_and_stops_when_cancelled()
    {
        using var model = Load(out var tokenizer);
        var settings = new SamplingSettings(MaxTokens: 30, Temperature: 0.9, TopK: 10, Seed: 5);
        var pieces = model.Stream("ROMEO:", settings).ToList();
        var asynchronous = new System.Collections.Generic.List<string>();
        await foreach (var piece in model.StreamAsync("ROMEO:", settings))
        {
            asynchronous.Add(piece);
        }

        Assert.Equal(pieces, asynchronous);
        Assert.Equal(string.Concat(pieces), model.Generate("ROMEO:", settings));
        Assert.Equal(30, model.Tokens(tokenizer.Encode("ROMEO:"), settings).Count());

        using var cancel = new CancellationTokenSource();
        var seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var piece in model.StreamAsync("ROMEO:", settings with { MaxTokens = 1000 }, cancel.Token))
            {
                if (++seen == 3)
                {
                    cancel.Cancel();
                }
            }
        });
        Assert.Equal(3, seen);
    }
}

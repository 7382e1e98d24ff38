using System;
using System.IO;
using System.Linq;
using System.Text;
using SlmGen.Inference;

namespace SlmGen.Cli.Tests;

/// <summary>
/// Issue 26 item 2: the folder `slmgen export --onnx` writes runs in SlmGen.Inference (ONNX Runtime, no TorchSharp) with
/// the tokens and text `slmgen sample` gives, fp32 and the artifact's 4/8-bit MatMulNBits form; damaged folders are refused.
/// </summary>
public sealed class ShipTests : IDisposable
{
    private const string Spec = """
        name: ShipMe
        vocab: 65
        context: 24
        embedding: 48
        positions: rope
        layers:
          - transformer: { layers: 2, heads: 4, kv_heads: 2, ffn: 2x, activation: swiglu, norm: rmsnorm, attention_bias: false, ffn_bias: false }
        final_norm: rmsnorm
        head: tied
        quantization: { attention: 4, mlp: 8, group: 16, method: absmax }
        """;

    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    private SlmGenProcess Slmgen(params string[] args) => SlmGenProcess.Run(folder.Path, TimeSpan.FromMinutes(3), args);

    [Fact]
    public void The_exported_folder_generates_the_sampled_text_in_the_inference_library_and_refuses_damage()
    {
        var spec = folder.File("ship.yaml", Spec);
        var run = Path.Combine(folder.Path, "run");
        using (var train = Slmgen("train", spec, "--data", "shakespeare-char", "--steps", "80", "--batch", "8", "--eval-every", "80", "--eval-batches", "1", "--device", "cpu", "--run-dir", run))
        {
            Assert.True(train.ExitCode == 0, train.ToString());
        }

        var checkpoint = Path.Combine(run, "last.ckpt");
        foreach (var (name, extra) in new[] { ("fp32", Array.Empty<string>()), ("int", new[] { "--onnx-artifact" }) })
        {
            using var export = Slmgen(new[] { "export", spec, "--checkpoint", checkpoint, "--data", "shakespeare-char", "--out", Path.Combine(folder.Path, name), "--onnx", "--no-hf" }.Concat(extra).ToArray());
            Assert.True(export.ExitCode == 0, export.ToString());
            Assert.Contains("slmgen-model.json", export.Stdout);
        }

        using var sample = Slmgen("sample", spec, "--checkpoint", checkpoint, "--data", "shakespeare-char", "--prompt", "ROMEO:", "--tokens", "60", "--temperature", "0", "--device", "cpu");
        Assert.True(sample.ExitCode == 0, sample.ToString());
        var expected = sample.Stdout.TrimEnd('\n')["ROMEO:".Length..];

        // fp32: the same greedy text as the generated TorchSharp module, past the 24-token context.
        var fp32 = Path.Combine(folder.Path, "fp32", "onnx");
        using (var model = LanguageModel.Load(fp32))
        {
            Assert.Equal("fp32", model.Manifest.Weights);
            Assert.Equal(expected, model.Generate("ROMEO:", SamplingSettings.Greedy(60)));
            var seeded = new SamplingSettings(MaxTokens: 40, Temperature: 0.9, TopK: 20, TopP: 0.95, Seed: 11);
            Assert.Equal(model.Generate("ROMEO:", seeded), model.Generate("ROMEO:", seeded));
            Assert.NotEqual(model.Generate("ROMEO:", seeded), model.Generate("ROMEO:", seeded with { Seed = 12 }));
            Assert.Equal(40, model.Tokens(model.Tokenizer!.Encode("ROMEO:"), seeded).Count());
        }

        // The artifact's form: attention at 4 bits and the MLP at 8 as MatMulNBits; it loads and generates.
        var quantized = Path.Combine(folder.Path, "int", "onnx");
        Assert.Contains("MatMulNBits", Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(quantized, "model-decode.onnx"))));
        using (var model = LanguageModel.Load(quantized))
        {
            Assert.StartsWith("artifact: attention 4-bit", model.Manifest.Weights);
            Assert.Equal(60, model.Tokens(model.Tokenizer!.Encode("ROMEO:"), SamplingSettings.Greedy(60)).Count());
        }

        // Damaged or mismatched folders: one exception with the reason, never a wrong model.
        var manifest = Path.Combine(fp32, ModelManifest.FileName);
        var original = File.ReadAllText(manifest);
        File.WriteAllText(manifest, original.Replace("\"formatVersion\": 1", "\"formatVersion\": 9"));
        Assert.Contains("format version 9", Assert.Throws<InvalidDataException>(() => LanguageModel.Load(fp32)).Message);
        File.WriteAllText(manifest, original.Replace("\"vocabulary\": 65", "\"vocabulary\": 64"));
        Assert.Contains("the tokenizer has 65 tokens, the model 64", Assert.Throws<InvalidDataException>(() => LanguageModel.Load(fp32)).Message);
        File.WriteAllText(manifest, original.Replace("\"decodeGraph\": \"model-decode.onnx\"", "\"decodeGraph\": \"../x.onnx\""));
        Assert.Contains("not a file name inside the folder", Assert.Throws<InvalidDataException>(() => LanguageModel.Load(fp32)).Message);
        File.WriteAllText(manifest, original);
        var graph = Path.Combine(fp32, "model-decode.onnx");
        var bytes = File.ReadAllBytes(graph);
        File.WriteAllBytes(graph, bytes[..(bytes.Length / 2)]);
        Assert.Contains("cannot load the graph", Assert.Throws<InvalidDataException>(() => LanguageModel.Load(fp32)).Message);
        File.Delete(graph);
        Assert.Throws<FileNotFoundException>(() => LanguageModel.Load(fp32));
    }
}

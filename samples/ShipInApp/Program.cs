using System;
using System.CommandLine;
using System.IO;
using SlmGen.Inference;

// Streams a continuation of a prompt from an exported SlmGen model: `ShipInApp export/onnx "ROMEO:" --tokens 200`.
var folder = new Argument<string>("model") { Description = "the folder `slmgen export SPEC --onnx --out OUT` wrote as OUT/onnx" };
var prompt = new Argument<string>("prompt") { Description = "the text to continue", DefaultValueFactory = _ => "\n" };
var tokens = new Option<int>("--tokens") { Description = "tokens to generate", DefaultValueFactory = _ => 200 };
var temperature = new Option<double>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0.8 };
var topK = new Option<int>("--top-k") { Description = "keep the k most likely tokens (0 = all)", DefaultValueFactory = _ => 0 };
var topP = new Option<double>("--top-p") { Description = "keep the most likely tokens up to probability p", DefaultValueFactory = _ => 1.0 };
var seed = new Option<int>("--seed") { Description = "sampling seed", DefaultValueFactory = _ => 0 };
var root = new RootCommand("Generate text with a model exported by SlmGen (ONNX Runtime, no TorchSharp).") { folder, prompt, tokens, temperature, topK, topP, seed };
root.SetAction(r =>
{
    try
    {
        using var model = LanguageModel.Load(r.GetValue(folder)!);
        var settings = new SamplingSettings(r.GetValue(tokens), r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP), r.GetValue(seed));
        settings.Validate();
        var text = r.GetValue(prompt)!;
        var pieces = model.Stream(text, settings); // encodes the prompt: a character the tokenizer lacks is an error before any output
        Console.Write(text);
        foreach (var piece in pieces)
        {
            Console.Write(piece);
        }

        Console.WriteLine();
        return 0;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
});
return root.Parse(args).Invoke();

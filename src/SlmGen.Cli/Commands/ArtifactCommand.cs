using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using SlmGen.Artifacts;
using SlmGen.Training;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen artifact</c>: the artifact of trained weights at the spec's precision plan (quantised after training, or the QAT grid), with its bytes against the build's figure.</summary>
public static class ArtifactCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "the model's YAML spec: its quantization section is the precision plan (a spec of the same architecture with another plan reads the same checkpoint)" };
        var weights = new Option<string>("--checkpoint", "--weights") { Description = "a checkpoint (.ckpt) or safetensors weights", Required = true };
        var best = new Option<bool>("--best") { Description = "a checkpoint's best-validation weights" };
        var output = new Option<string>("--out") { Description = "the artifact file", Required = true };
        var data = new Option<string>("--data") { Description = "the data the model was trained on: its tokenizer is embedded, GPTQ calibrates on its training split", Required = true };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "chars, bytes, words, gpt2, cl100k or bpe:DIR (default: the spec's declared tokenizer, else the corpus's own)" };
        var compression = new Option<string?>("--compression") { Description = "none, zstd, lzma, brotli or deflate (default: the spec's); all: write with the spec's and report every one's size and time" };
        compression.AcceptOnlyFromAmong("none", "zstd", "lzma", "brotli", "deflate", "all");
        var windows = new Option<int>("--calibration-windows") { Description = "windows of the training split for GPTQ's statistics", DefaultValueFactory = _ => 128 };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda: where the model is read and quantised (the MSE search and GPTQ run on the GPU there)", DefaultValueFactory = _ => "auto" };
        var resultFile = new Option<string?>("--result") { Description = "also write the artifact's figures (bytes stated, predicted, written; compression; times) to this JSON file" };
        var command = new Command("artifact", "Write the artifact of trained weights at the spec's precision plan (docs/artifact.md): bit-packed codes and scales, the other tensors at the plan's type, the architecture and the tokenizer in one sealed file; its bytes beside the build's figure.") { spec, weights, best, output, data, tokenizer, compression, windows, device, resultFile };
        command.SetAction(r =>
        {
            Cli.EnsureDataExists(r.GetValue(data)!);
            var dev = Devices.Resolve(r.GetValue(device));
            using var model = Cli.Model(r.GetValue(spec)!, r.GetValue(weights), dev, r.GetValue(best));
            var dataset = Cli.Data(r.GetValue(data)!, Cli.Tokenizer(r.GetValue(tokenizer), model, r.GetValue(spec)!));
            if (dataset.VocabSize != model.DeclaredVocab)
            {
                throw new CliException($"the model's vocabulary is {model.DeclaredVocab:N0}, the data's {dataset.VocabSize:N0}.");
            }

            var options = ArtifactRoundTrip.Options(model, dataset, r.GetValue(windows), dev);
            var chosen = r.GetValue(compression);
            if (chosen is not null and not "all")
            {
                options = options with { Compression = Parse(chosen) };
            }

            var written = ArtifactFile.Write(model, r.GetValue(output)!, options);
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(written.Path)}: {written.Bytes:N0} bytes uncompressed (the build stated {model.Cost.ArtifactBytes:N0} before the tokenizer; with it {written.PredictedBytes:N0}: {(written.PredictedBytes == written.Bytes ? "equal" : "DIFFERENT")}), " +
                                   $"{written.FileBytes:N0} in the file ({ArtifactPlan.Name(written.Compression)}); quantised in {written.QuantizeSeconds:0.00} s; {Markup.Escape(model.ArtifactPlan.Describe())}");
            var measured = new List<object>();
            if (chosen == "all")
            {
                var (raw, _) = ArtifactFile.Encode(model, options);
                var table = new Table().AddColumns("compression", "bytes", "ratio", "compress s", "decompress s");
                foreach (var c in new[] { ArtifactCompression.None, ArtifactCompression.Zstd, ArtifactCompression.Lzma, ArtifactCompression.Brotli, ArtifactCompression.Deflate })
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    var packed = ArtifactCompressor.Compress(raw, c);
                    var compress = clock.Elapsed.TotalSeconds;
                    clock.Restart();
                    _ = ArtifactCompressor.Decompress(packed, "measure");
                    table.AddRow(ArtifactPlan.Name(c), $"{packed.Length:N0}", $"{(double)raw.Length / packed.Length:0.000}", $"{compress:0.000}", $"{clock.Elapsed.TotalSeconds:0.000}");
                    measured.Add(new { compression = ArtifactPlan.Name(c), bytes = packed.Length, ratio = (double)raw.Length / packed.Length, compress_seconds = compress, decompress_seconds = clock.Elapsed.TotalSeconds });
                }

                AnsiConsole.Write(table);
            }

            if (r.GetValue(resultFile) is { } path)
            {
                var record = new
                {
                    model = model.GetName(), plan = model.ArtifactPlan.Describe(), stated_bytes = model.Cost.ArtifactBytes, predicted_bytes = written.PredictedBytes, bytes = written.Bytes,
                    file_bytes = written.FileBytes, compression = ArtifactPlan.Name(written.Compression), quantize_seconds = written.QuantizeSeconds, compress_seconds = written.CompressSeconds,
                    compressions = measured, commit = Cli.Commit(), command = "slmgen " + string.Join(' ', System.Environment.GetCommandLineArgs()[1..]),
                };
                SlmGen.IO.AtomicFile.Write(path, s => System.Text.Json.JsonSerializer.Serialize(s, record));
            }

            return 0;
        });
        return command;
    }

    private static ArtifactCompression Parse(string name) => name switch
    {
        "zstd" => ArtifactCompression.Zstd,
        "lzma" => ArtifactCompression.Lzma,
        "brotli" => ArtifactCompression.Brotli,
        "deflate" => ArtifactCompression.Deflate,
        _ => ArtifactCompression.None,
    };
}

using SlmGen;
using SlmGen.Data;
using SlmGen.Generation;
using SlmGen.Training;

// Trains one of this project's models on data/input.txt (characters; replace it with your own text and set
// the models' vocabulary to its number of distinct characters), then samples from it.
//   dotnet run -- [TinyTransformer|TinyGpt] [steps]
var name = args.Length > 0 ? args[0] : "TinyTransformer";
var steps = args.Length > 1 && long.TryParse(args[1], out var s) ? s : 300;
var descriptor = ModelCatalog.Find(typeof(SlmGenApp.TinyTransformer).Assembly, name);
var data = Corpora.FromTextFile(Path.Combine(AppContext.BaseDirectory, "data", "input.txt"));
Console.WriteLine($"{descriptor.Name}: {descriptor.Cost.Parameters:N0} parameters, {descriptor.Cost.TrainingFlopsPerToken:N0} training FLOPs per token (build-time constants)");

Devices.Seed(1337);
var device = Devices.Resolve("auto");
using var model = descriptor.Create();
var options = new TrainingOptions { BatchSize = 16, Steps = steps, LearningRate = 3e-3, WarmupSteps = (int)Math.Min(50, steps / 10 + 1), EvalEvery = (int)Math.Max(1, steps / 4), RunDirectory = Path.Combine("runs", name) };
using var trainer = new Trainer(model, data, options, device, Console.Out);
if (File.Exists(trainer.LastCheckpointPath) && args.Contains("--resume"))
{
    trainer.Resume(trainer.LastCheckpointPath!);
}

// Ctrl+C, SIGTERM or SIGHUP: the step finishes, runs/<model>/last.ckpt is written; `dotnet run -- <model> <steps> --resume` continues.
using var stop = StopSignals.Listen(Console.Out).HoldUntilExit(); // the process ends with the run: a late second signal must not kill it
var result = trainer.Train(cancellation: stop.Token);
if (stop.Stopped)
{
    return StopSignals.InterruptedExitCode;
}

var validation = trainer.Evaluate(Split.Validation, EvalProtocol.Sequential());
Console.WriteLine($"trained {result.Steps} steps: validation NLL {validation.Nll:0.0000} nats/char, {validation.BitsPerToken:0.000} bits/char");
var sample = TextGenerator.Generate(model, data.Tokenizer.Encode("\n"), 200, new SamplingOptions(Temperature: 0.8, TopK: 20, Seed: 1), device);
Console.WriteLine(data.Tokenizer.Decode(sample));
return 0;

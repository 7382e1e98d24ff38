using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SlmGen.Inference;

/// <summary>
/// An exported SlmGen model run by ONNX Runtime: its decoding graph with the KV cache carried from one step to the next
/// while the text fits the context, and the last context tokens recomputed as a fresh window after that (SlmGen's exact
/// cache mode: greedy decoding gives the tokens the generated TorchSharp module gives).
/// <code>
/// using var model = LanguageModel.Load("export/onnx");
/// foreach (var piece in model.Stream("ROMEO:", new SamplingSettings(MaxTokens: 200, Temperature: 0.8, TopK: 40)))
///     Console.Write(piece);
/// </code>
/// One instance generates one text at a time (its session may be shared: ONNX Runtime sessions are thread-safe to run).
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private readonly InferenceSession session;
    private readonly string[] pastNames;
    private readonly string[] outputNames;
    private readonly long[][] emptyPastShapes;
    private readonly bool readsPreviousToken;

    private LanguageModel(InferenceSession session, ModelManifest manifest, TokenizerJson? tokenizer)
    {
        this.session = session;
        Manifest = manifest;
        Tokenizer = tokenizer;
        var inputs = session.InputMetadata;
        foreach (var required in new[] { "input_ids", "past_length" })
        {
            if (!inputs.ContainsKey(required))
            {
                throw new InvalidDataException($"{manifest.Name}: the decoding graph has no input {required} (not a graph `slmgen export --onnx` wrote).");
            }
        }

        pastNames = inputs.Keys.Where(k => k.StartsWith("past_key_", StringComparison.Ordinal) || k.StartsWith("past_value_", StringComparison.Ordinal)).ToArray();
        emptyPastShapes = pastNames.Select(n => new long[] { 1, inputs[n].Dimensions[1], 0, inputs[n].Dimensions[3] }).ToArray();
        readsPreviousToken = inputs.ContainsKey("previous_token");
        outputNames = new[] { "logits" }.Concat(pastNames.Select(n => "present_" + n["past_".Length..])).ToArray();
        if (tokenizer is not null && tokenizer.VocabSize != manifest.Vocabulary)
        {
            throw new InvalidDataException($"{manifest.Name}: the tokenizer has {tokenizer.VocabSize:N0} tokens, the model {manifest.Vocabulary:N0}.");
        }
    }

    /// <summary>What the folder says about the model.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The model's tokenizer, or null when the folder has none (then generate from ids: <see cref="Tokens"/>).</summary>
    public TokenizerJson? Tokenizer { get; }

    /// <summary>Loads an exported folder (<c>slmgen export SPEC --onnx --out DIR</c> writes DIR/onnx).</summary>
    /// <param name="folder">The folder with slmgen-model.json.</param>
    /// <param name="options">ONNX Runtime's session options (threads, execution providers); null: its defaults.</param>
    /// <exception cref="FileNotFoundException">A file the manifest names is missing.</exception>
    /// <exception cref="InvalidDataException">A damaged or inconsistent folder, with the reason.</exception>
    /// <exception cref="NotSupportedException">A model that reads whole windows (no decoding graph).</exception>
    public static LanguageModel Load(string folder, SessionOptions? options = null)
    {
        var manifest = ModelManifest.Read(folder);
        if (manifest.DecodeGraph is null)
        {
            throw new NotSupportedException($"{manifest.Name} reads whole windows of {manifest.Context} tokens (a flatten): it has no decoding step to generate with; run {manifest.ForwardGraph} on full windows instead.");
        }

        var decode = Path.Combine(folder, manifest.DecodeGraph);
        if (!File.Exists(decode))
        {
            throw new FileNotFoundException($"{decode} is missing (named by {ModelManifest.FileName}).", decode);
        }

        var tokenizer = manifest.Tokenizer is { } t ? TokenizerJson.Load(Path.Combine(folder, t)) : null;
        return Create(Session(decode, () => options is null ? new InferenceSession(decode) : new InferenceSession(decode, options)), manifest, tokenizer);
    }

    /// <summary>A model from a decoding graph in memory (what <c>slmgen sample --runtime onnx</c> runs without writing files).</summary>
    public static LanguageModel FromGraph(byte[] decodeGraph, ModelManifest manifest, TokenizerJson? tokenizer = null, SessionOptions? options = null)
    {
        manifest.Check(manifest.Name);
        return Create(Session(manifest.Name, () => options is null ? new InferenceSession(decodeGraph) : new InferenceSession(decodeGraph, options)), manifest, tokenizer);
    }

    private static InferenceSession Session(string where, Func<InferenceSession> open)
    {
        try
        {
            return open();
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{where}: ONNX Runtime cannot load the graph: {e.Message}", e);
        }
    }

    private static LanguageModel Create(InferenceSession session, ModelManifest manifest, TokenizerJson? tokenizer)
    {
        try
        {
            return new LanguageModel(session, manifest, tokenizer);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The text generated after <paramref name="prompt"/>.</summary>
    public string Generate(string prompt, SamplingSettings settings, CancellationToken cancellation = default)
    {
        var text = new StringBuilder();
        foreach (var piece in Stream(prompt, settings, cancellation))
        {
            text.Append(piece);
        }

        return text.ToString();
    }

    /// <summary>The generated text in pieces as the tokens are drawn (see <see cref="TextStream"/>).</summary>
    /// <exception cref="InvalidOperationException">The folder has no tokenizer.</exception>
    public IEnumerable<string> Stream(string prompt, SamplingSettings settings, CancellationToken cancellation = default)
    {
        var tokenizer = Tokenizer ?? throw new InvalidOperationException($"{Manifest.Name} was exported without a tokenizer: generate from ids with Tokens(), or export with --data or a declared tokenizer.");
        var ids = tokenizer.Encode(prompt);
        return Pieces(ids, settings, tokenizer, cancellation);
    }

    /// <summary>
    /// <see cref="Stream"/> for apps with a UI thread: each token is computed on the thread pool and its text awaited, so
    /// the caller's thread is free between pieces; <paramref name="cancellation"/> stops between tokens.
    /// </summary>
    public async IAsyncEnumerable<string> StreamAsync(string prompt, SamplingSettings settings, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
    {
        using var pieces = Stream(prompt, settings, cancellation).GetEnumerator();
        while (await System.Threading.Tasks.Task.Run(pieces.MoveNext, cancellation).ConfigureAwait(false))
        {
            yield return pieces.Current;
        }
    }

    private IEnumerable<string> Pieces(int[] prompt, SamplingSettings settings, TokenizerJson tokenizer, CancellationToken cancellation)
    {
        var stream = new TextStream(tokenizer, prompt.Length > 0 ? prompt[^1] : null);
        foreach (var id in Tokens(prompt, settings, null, cancellation))
        {
            if (stream.Push(id) is { Length: > 0 } piece)
            {
                yield return piece;
            }
        }

        if (stream.Flush() is { Length: > 0 } rest)
        {
            yield return rest;
        }
    }

    /// <summary>
    /// The generated ids after <paramref name="prompt"/> (an empty prompt starts from the beginning-of-text id, else id 0),
    /// drawn by <paramref name="draw"/> from each next-token logits row (the vocabulary's ids only) or, when null, by a
    /// <see cref="TokenSampler"/> with <paramref name="settings"/>; stops after <see cref="SamplingSettings.MaxTokens"/>, or
    /// after the end-of-text id when the settings say so.
    /// </summary>
    public IEnumerable<int> Tokens(IReadOnlyList<int> prompt, SamplingSettings settings, Func<float[], int>? draw = null, CancellationToken cancellation = default)
    {
        settings.Validate();
        foreach (var id in prompt)
        {
            if (id < 0 || id >= Manifest.Vocabulary)
            {
                throw new ArgumentOutOfRangeException(nameof(prompt), id, $"token id {id} is outside the vocabulary (0 … {Manifest.Vocabulary - 1}).");
            }
        }

        var sampler = new TokenSampler(settings);
        return Run(prompt, settings, draw ?? (row => sampler.Next(row)), cancellation);
    }

    private IEnumerable<int> Run(IReadOnlyList<int> prompt, SamplingSettings settings, Func<float[], int> draw, CancellationToken cancellation)
    {
        var tokens = new List<int>(prompt.Count == 0 ? new[] { Manifest.BeginningOfText ?? 0 } : prompt);
        var past = Empty();
        IDisposableReadOnlyCollection<OrtValue>? previousOutputs = null;
        using var runOptions = new RunOptions();
        long position = 0, previous = 0;
        var feed = tokens.Select(t => (long)t).ToArray();
        var logitsRow = new float[Manifest.Vocabulary];
        try
        {
            for (var i = 0; i < settings.MaxTokens; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                if (position + feed.Length > Manifest.Context)
                {
                    // Past the context: a fresh window of the last context tokens, recomputed.
                    previousOutputs?.Dispose();
                    previousOutputs = null;
                    past = Empty();
                    position = 0;
                    feed = tokens.Skip(Math.Max(0, tokens.Count - Manifest.Context)).Select(t => (long)t).ToArray();
                }

                var names = new List<string> { "input_ids", "past_length" };
                var values = new List<OrtValue>
                {
                    OrtValue.CreateTensorValueFromMemory(feed, new long[] { 1, feed.Length }),
                    OrtValue.CreateTensorValueFromMemory(new[] { position }, new long[] { 1 }),
                };
                if (readsPreviousToken)
                {
                    names.Add("previous_token");
                    values.Add(OrtValue.CreateTensorValueFromMemory(new[] { previous }, new long[] { 1, 1 }));
                }

                names.AddRange(pastNames);
                values.AddRange(past);
                IDisposableReadOnlyCollection<OrtValue> outputs;
                try
                {
                    outputs = session.Run(runOptions, names, values, outputNames);
                }
                finally
                {
                    foreach (var v in values.Take(names.Count - pastNames.Length))
                    {
                        v.Dispose();
                    }

                    // The past came from the previous step's outputs (or is the empty cache): done with it now.
                    if (previousOutputs is null)
                    {
                        foreach (var v in past)
                        {
                            v.Dispose();
                        }
                    }

                    previousOutputs?.Dispose();
                    previousOutputs = null;
                }

                previousOutputs = outputs;
                var logits = outputs[0].GetTensorDataAsSpan<float>();
                logits.Slice((feed.Length - 1) * Manifest.Logits, Manifest.Vocabulary).CopyTo(logitsRow);
                var next = draw(logitsRow);
                if (next < 0 || next >= Manifest.Vocabulary)
                {
                    throw new InvalidOperationException($"the draw returned {next}, outside the vocabulary.");
                }

                past = outputs.Skip(1).ToArray();
                position += feed.Length;
                previous = feed[^1];
                tokens.Add(next);
                feed = new long[] { next };
                yield return next;
                if (settings.StopAtEndOfText && Manifest.EndOfText == next)
                {
                    yield break;
                }
            }
        }
        finally
        {
            if (previousOutputs is null)
            {
                foreach (var v in past)
                {
                    v.Dispose();
                }
            }

            previousOutputs?.Dispose();
        }
    }

    private OrtValue[] Empty() => emptyPastShapes.Select(s => OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, s)).ToArray();

    /// <inheritdoc />
    public void Dispose() => session.Dispose();
}

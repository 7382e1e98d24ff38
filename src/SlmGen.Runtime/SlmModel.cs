using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using SlmGen.Layers;
using static TorchSharp.torch;

namespace SlmGen;

/// <summary>
/// Base class of every generated model: a TorchSharp module from token ids (B, T) to logits, with its
/// compile-time costs attached.
/// </summary>
public abstract class SlmModel : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the module.</summary>
    protected SlmModel(string name) : base(name)
    {
    }

    /// <summary>The compile-time costs of this architecture.</summary>
    public abstract ModelCost Cost { get; }

    /// <summary>A hash of the normalised spec: checkpoints remember it and refuse another architecture.</summary>
    public abstract string Fingerprint { get; }

    /// <summary>
    /// The resolved architecture as JSON (every step with its field name, widths and settings), from which
    /// SlmGen.Interop.PyTorchTwin builds the PyTorch twin with the same parameter names.
    /// </summary>
    public abstract string Architecture { get; }

    /// <summary>
    /// The resolved plan, step by step (typed records shared with the generator: the same ones it computed the
    /// costs from, and the ones the layers were built from). Exports switch on it.
    /// </summary>
    public abstract System.Collections.Generic.IReadOnlyList<PlanStep> Plan { get; }

    /// <summary>The vocabulary as declared, before pad_vocab_to rounded it up to <see cref="Vocab"/>.</summary>
    public virtual int DeclaredVocab => Vocab;

    /// <summary>The tokenizer the spec declares (chars, bytes, words, gpt2, cl100k or a BPE folder), or null.</summary>
    public virtual string? Tokenizer => null;

    /// <summary>The token embedding's weight precision under quantisation-aware training (0 = full precision).</summary>
    public virtual int EmbeddingWeightBits => 0;

    /// <summary>The precision plan of the model's artifact (the spec's <c>quantization:</c>): every tensor in fp32 when none is declared.</summary>
    public virtual ArtifactPlan ArtifactPlan => ArtifactPlan.Full;

    /// <summary>The KV cache set on this model (<see cref="SetKvCache"/>), or null: every forward pass reads whole windows.</summary>
    public Generation.KvCache? KvCache { get; private set; }

    /// <summary>The position of the first token of the next forward pass: the cached length with a KV cache, else 0.</summary>
    public long StartPosition => KvCache?.Length ?? 0;

    /// <summary>
    /// Sets the KV cache of incremental decoding on the model and every attention layer in it (null removes it);
    /// each forward pass is then announced with <see cref="Generation.KvCache.Activate"/> and takes only the new tokens.
    /// </summary>
    public void SetKvCache(Generation.KvCache? cache)
    {
        KvCache = cache;
        foreach (var module in modules())
        {
            if (module is Layers.CausalSelfAttention attention)
            {
                attention.KvCache = cache;
            }
        }
    }

    /// <summary>
    /// Quantisation-aware training's switch: true (from construction) fake-quantises the declared parts in every forward
    /// pass; false passes the full-precision weights (a late start: <c>TrainingOptions.QatStart</c> turns it on).
    /// </summary>
    public bool FakeQuantEnabled
    {
        get => fakeQuantEnabled;
        set
        {
            fakeQuantEnabled = value;
            foreach (var module in modules())
            {
                if (module is IFakeQuantized q)
                {
                    q.Enabled = value;
                }
            }
        }
    }

    private bool fakeQuantEnabled = true;

    /// <summary>True when some layer fake-quantises its weights (a QAT precision plan).</summary>
    public bool HasFakeQuant => EmbeddingWeightBits > 0 || modules().Any(m => m is IFakeQuantized);

    private void SetFakeQuantGrid(ArtifactPlan plan)
    {
        foreach (var module in modules())
        {
            if (module is IFakeQuantized q)
            {
                q.Group = plan.Group;
                q.Grid = plan.Grid;
            }
        }
    }

    /// <summary>Context length (tokens per window).</summary>
    public int Context => Cost.Context;

    /// <summary>Vocabulary size.</summary>
    public int Vocab => Cost.Vocab;

    /// <summary>False for models that make one prediction per window (the flatten baselines).</summary>
    public bool PredictsEveryPosition => Cost.PredictsEveryPosition;

    /// <summary>Logits at every position, (B, T, V); (B, V) for one-prediction-per-window models.</summary>
    public override Tensor forward(Tensor idx) => Logits(idx, lastPositionOnly: false);

    /// <summary>
    /// Logits for a batch of token ids (B, T): (B, T, V) at every position, or (B, V) for the last position
    /// only (then the LM head runs on that position alone). One-prediction-per-window models always give (B, V).
    /// </summary>
    public abstract Tensor Logits(Tensor idx, bool lastPositionOnly);

    /// <summary>
    /// Everything before the LM head: (B, T, width) at every position, or (B, width) for one-prediction-per-window
    /// models. <c>Head(Features(idx))</c> is <c>Logits(idx, false)</c>; the trainer's chunked loss uses the two
    /// halves so that the full (B, T, V) logits never exist at once.
    /// </summary>
    public abstract Tensor Features(Tensor idx);

    /// <summary>The LM head alone: features (…, width) to logits (…, V).</summary>
    public abstract Tensor Head(Tensor features);

    /// <summary>
    /// The mean next-token NLL of <paramref name="targets"/> from <paramref name="features"/> (the training loss):
    /// the cross-entropy of the head's logits; a grouped head overrides it with its two softmaxes.
    /// </summary>
    public virtual Tensor Loss(Tensor features, Tensor targets)
    {
        using var scope = NewDisposeScope(); // the logits and per-position losses are held while libtorch reads them
        return scope.MoveToOuter(NextTokenLoss.Mean(Head(features), targets, DeclaredVocab));
    }

    /// <summary>
    /// The training loss with z-loss (PaLM): the cross-entropy plus <c>zLoss · mean(logsumexp(logits)²)</c> over the real
    /// tokens' scores, which keeps the softmax's normaliser near 1; <paramref name="zLoss"/> 0 is <see cref="Loss(Tensor, Tensor)"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">A grouped head (its two softmaxes have no single normaliser) with z-loss.</exception>
    public Tensor Loss(Tensor features, Tensor targets, double zLoss)
    {
        if (zLoss == 0)
        {
            return Loss(features, targets);
        }

        if (Plan.OfType<HeadStep>().Single().Kind == HeadKind.Grouped)
        {
            throw new NotSupportedException($"{GetName()} has a grouped head: its two softmaxes have no single normaliser for z-loss.");
        }

        using var scope = NewDisposeScope();
        return scope.MoveToOuter(NextTokenLoss.Mean(Head(features), targets, DeclaredVocab, zLoss));
    }

    /// <summary>
    /// The columns of real tokens: logits (or log-probabilities) over the declared vocabulary, without the ids that
    /// pad_vocab_to added. The training loss, evaluation and sampling normalise over these only, so a padded id never
    /// takes probability; <see cref="Logits"/> itself keeps every row's score (the twin's and an export's shape).
    /// </summary>
    public Tensor RealTokens(Tensor logits) => DeclaredVocab < logits.shape[^1] ? logits.narrow(-1, 0, DeclaredVocab) : logits;

    /// <summary>Number of distinct trainable parameter elements the module holds.</summary>
    public long CountParameters() => CountDistinct(parameters());

    /// <summary>
    /// The elements of <paramref name="tensors"/>, each tensor once however often it appears (a shared module's). Tensors
    /// are told apart by their native handle: TorchSharp's <c>Tensor.Equals</c> compares values, so two different
    /// zero-initialised biases of one size are "equal", and a value-based Distinct drops one of them whenever their hash
    /// codes meet.
    /// </summary>
    public static long CountDistinct(IEnumerable<Tensor> tensors) => tensors.DistinctBy(t => t.Handle).Sum(t => t.numel());

    /// <summary>Initialises the weights by <paramref name="scheme"/>.</summary>
    /// <param name="scheme">The scheme.</param>
    /// <param name="residualLayers">Block applications in the forward pass (GPT-2 scales residual projections by 1/√(2·this)).</param>
    protected void InitializeWeights(InitScheme scheme, int residualLayers)
    {
        SetFakeQuantGrid(ArtifactPlan);
        using var noGrad = no_grad();
        if (scheme == InitScheme.Gpt2)
        {
            var residualStd = 0.02 / Math.Sqrt(2.0 * Math.Max(1, residualLayers));
            var residual = modules().OfType<CausalSelfAttention>().Select(a => a.OutputProjectionWeight)
                .Concat(modules().OfType<FeedForward>().Select(f => f.OutputProjectionWeight))
                .Select(w => w.Handle).ToHashSet();
            foreach (var (name, p, role) in ParameterRoles.Of(this))
            {
                if (p.dim() < 2)
                {
                    if (name.EndsWith("bias", StringComparison.Ordinal))
                    {
                        nn.init.zeros_(p);
                    }
                }
                else if (role != ParameterRole.Gain) // residual mixes and U-Net skip weights keep their ones and zeros
                {
                    nn.init.normal_(p, 0.0, residual.Contains(p.Handle) ? residualStd : 0.02);
                }
            }

            // LoRA adapters and hashed bigrams start as no change: B, and the bigram projection (or table), back to zero.
            foreach (var adapter in modules().OfType<LoraAdapter>())
            {
                adapter.ResetUp();
            }

            foreach (var bigram in modules().OfType<BigramHash>())
            {
                bigram.ResetToNoChange();
            }

            return;
        }

        // PyTorch defaults are what the layers start with; nn.MultiheadAttention (packed q/k/v) differs:
        // xavier_uniform_ in-projection and zero biases.
        foreach (var attention in modules().OfType<CausalSelfAttention>().Where(a => a.PackedQkv))
        {
            foreach (var (name, p) in attention.named_parameters())
            {
                if (name == "qkv.weight")
                {
                    nn.init.xavier_uniform_(p);
                }
                else if (name.EndsWith("bias", StringComparison.Ordinal))
                {
                    nn.init.zeros_(p);
                }
            }
        }
    }
}

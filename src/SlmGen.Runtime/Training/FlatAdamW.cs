using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>AdamW settings.</summary>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Epsilon">Denominator guard.</param>
/// <param name="WeightDecay">Decoupled weight decay, applied to matrices only (embeddings included; biases and norm scales excluded).</param>
/// <param name="GradientClip">Largest global gradient norm (0 = no clipping).</param>
/// <param name="GatherGradients">
/// Let autograd allocate each gradient and gather them into one buffer with a single concatenation after the
/// backward pass (default), instead of making every gradient a view of the flat buffer, which costs one
/// accumulate kernel per parameter tensor in every backward pass.
/// </param>
public sealed record AdamWSettings(double Beta1 = 0.9, double Beta2 = 0.99, double Epsilon = 1e-8, double WeightDecay = 0.1, double GradientClip = 1.0, bool GatherGradients = true);

/// <summary>
/// AdamW (and, for a group of hidden matrices, Muon) over one flat buffer. Every parameter of the model becomes a view into one flat weight buffer and
/// the gradients are gathered into one flat buffer by a single concatenation after the backward pass (or, with
/// <see cref="AdamWSettings.GatherGradients"/> off, are views of it), so a step is a dozen whole-buffer
/// kernels whatever the number of parameter tensors (TorchSharp's AdamW loops over the tensors, ~10 launches
/// each). The
/// master weights and both moments are fp32. With a bf16 compute type the model's parameters are bf16
/// views of a bf16 copy that each step refreshes from the fp32 master (mixed precision without autocast,
/// which TorchSharp 0.107 lacks). Gradient clipping and the bias corrections need no host synchronisation.
/// Parameters are laid out group by group (<see cref="OptimizerGroups"/>): each group's range has its own learning-rate
/// scale and weight decay; a Muon group's matrices take <see cref="MuonStep(Tensor, double)"/> with the first-moment buffer as their
/// momentum (their second-moment range stays unused).
/// </summary>
public sealed class FlatAdamW : IDisposable
{
    private readonly List<(string Name, Parameter Parameter, long Offset, long[] Shape)> layout = new();
    private readonly Tensor master;
    private readonly Tensor? weights16;
    private readonly Tensor? gradViews;
    private readonly Tensor? grads32;
    private readonly Device device;
    private readonly Tensor m;
    private readonly Tensor v;
    private readonly Tensor denom;
    private readonly Tensor oneMinusBeta1;
    private readonly AdamWSettings settings;
    private readonly List<(long Offset, long Length, ParameterGroup Group)> ranges = new();
    private readonly MuonSettings? muon;
    private readonly long muonLength;
    private Tensor? collected;

    /// <summary>Re-seats the parameters of <paramref name="model"/> onto flat buffers on its device.</summary>
    /// <param name="model">The model, already on its device, in fp32.</param>
    /// <param name="settings">AdamW settings.</param>
    /// <param name="computeType">Float32, or BFloat16 for mixed precision (then the model is converted here).</param>
    /// <param name="groups">The parameter groups (default: <see cref="OptimizerGroups.AdamW"/>, matrices decayed and vectors not).</param>
    /// <param name="muon">Muon's settings, for a group that takes it.</param>
    public FlatAdamW(nn.Module model, AdamWSettings settings, ScalarType computeType = ScalarType.Float32, OptimizerGroups? groups = null, MuonSettings? muon = null)
    {
        this.settings = settings;
        ComputeType = computeType;
        groups ??= OptimizerGroups.AdamW(settings);
        Groups = groups.Groups;
        var named = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        device = named.Count > 0 ? named[0].parameter.device : CPU;

        // Group by group (the model's order within each), so that a group's rule is one kernel over its range.
        var grouped = named.Select(p => (p.name, p.parameter, Group: groups.Of(p.name, p.parameter))).ToList();
        var ordered = grouped.OrderBy(p => p.Group).Select(p => (p.name, p.parameter)).ToList();
        long at0 = 0;
        for (var g = 0; g < Groups.Count; g++)
        {
            var length = grouped.Where(p => p.Group == g).Sum(p => p.parameter.numel());
            if (length > 0)
            {
                ranges.Add((at0, length, Groups[g]));
            }

            at0 += length;
        }

        if (Groups.Any(g => g.Muon))
        {
            if (muon is null)
            {
                throw new ArgumentException("A Muon group needs Muon's settings.", nameof(muon));
            }

            if (!Groups[0].Muon || Groups.Skip(1).Any(g => g.Muon))
            {
                throw new ArgumentException("The Muon group must be the first and only one.", nameof(groups));
            }

            this.muon = muon;
            muonLength = ranges.Count > 0 && ranges[0].Group.Muon ? ranges[0].Length : 0;
            var flatMatrices = grouped.Where(p => p.Group == 0 && p.parameter.dim() < 2).Select(p => p.name).ToList();
            if (flatMatrices.Count > 0)
            {
                throw new ArgumentException($"Muon orthogonalises matrices; {string.Join(", ", flatMatrices)} have fewer than two dimensions.", nameof(groups));
            }
        }

        Count = ordered.Sum(p => p.parameter.numel());

        // The buffers live as long as the optimizer: each leaves any dispose scope its caller has open, whose end would
        // otherwise free them under it (a trainer made inside a scope and used after it).
        master = zeros(Count, dtype: ScalarType.Float32, device: device).DetachFromDisposeScope();
        using (no_grad())
        {
            long offset = 0;
            foreach (var (name, p) in ordered)
            {
                using var scope = NewDisposeScope(); // holds the views while libtorch copies (the caller may have no scope)
                master.narrow(0, offset, p.numel()).copy_(p.detach().reshape(-1));
                layout.Add((name, p, offset, p.shape));
                offset += p.numel();
            }

            if (computeType != ScalarType.Float32)
            {
                model.to(computeType);
                var converted = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                for (var i = 0; i < layout.Count; i++)
                {
                    layout[i] = (layout[i].Name, converted[layout[i].Name], layout[i].Offset, layout[i].Shape);
                }

                weights16 = master.to(computeType).DetachFromDisposeScope();
            }

            var weights = weights16 ?? master;
            gradViews = settings.GatherGradients ? null : zeros(Count, dtype: computeType, device: device).DetachFromDisposeScope();
            foreach (var (_, p, at, shape) in layout)
            {
                using var scope = NewDisposeScope(); // the views live on in the parameters; their wrappers go here
                p.set_(weights.narrow(0, at, p.numel()).view(shape));
                if (gradViews is not null)
                {
                    p.grad = gradViews.narrow(0, at, p.numel()).view(shape);
                }
            }
        }

        grads32 = computeType == ScalarType.Float32 ? null : zeros(Count, dtype: ScalarType.Float32, device: device).DetachFromDisposeScope();
        m = zeros(Count, dtype: ScalarType.Float32, device: device).DetachFromDisposeScope();
        v = zeros(Count, dtype: ScalarType.Float32, device: device).DetachFromDisposeScope();
        denom = zeros(Count, dtype: ScalarType.Float32, device: device).DetachFromDisposeScope();
        oneMinusBeta1 = tensor(1 - settings.Beta1, dtype: ScalarType.Float32, device: device).DetachFromDisposeScope();
    }

    /// <summary>Elements under optimisation.</summary>
    public long Count { get; }

    /// <summary>The parameter groups, in buffer order.</summary>
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>
    /// FLOPs of Muon's orthogonalisation per step (0 without Muon), under FlopCounterMode's convention (2 per
    /// multiply-add of the matmuls): for every matrix of r × c (r ≤ c), Newton–Schulz steps × (X·Xᵀ: 2r²c, A·A: 2r³,
    /// B·X: 2r²c).
    /// </summary>
    public long MuonFlopsPerStep => muon is null ? 0 : layout.Where(l => l.Offset < muonLength).Sum(l =>
    {
        long rows = l.Shape[0], columns = l.Shape.Skip(1).Aggregate(1L, (x, y) => x * y);
        long r = Math.Min(rows, columns), c = Math.Max(rows, columns);
        return checked(muon.NewtonSchulzSteps * ((4 * r * r * c) + (2 * r * r * r)));
    });

    /// <summary>The compute type of the model's parameters.</summary>
    public ScalarType ComputeType { get; }

    /// <summary>Steps taken.</summary>
    public long StepCount { get; private set; }

    /// <summary>Names and offsets of the parameters in the flat buffers.</summary>
    public IReadOnlyList<(string Name, long Offset, long[] Shape)> Layout => layout.Select(l => (l.Name, l.Offset, l.Shape)).ToList();

    /// <summary>The fp32 master weights (flat).</summary>
    public Tensor Master => master;

    /// <summary>First moments (flat).</summary>
    public Tensor FirstMoment => m;

    /// <summary>Second moments (flat).</summary>
    public Tensor SecondMoment => v;

    /// <summary>The gradients as one flat buffer in the compute type (gathered first when autograd allocated them).</summary>
    public Tensor Gradients => Gather();

    /// <summary>Clears the gradients: one kernel over the flat buffer, or (gathering) dropping autograd's tensors.</summary>
    public void ZeroGrad()
    {
        if (gradViews is not null)
        {
            gradViews.zero_();
            return;
        }

        foreach (var (_, p, _, _) in layout)
        {
            p.grad = null;
        }

        collected?.Dispose();
        collected = null;
    }

    /// <summary>
    /// Takes one step at learning rate <paramref name="lr"/>. Returns the pre-clip gradient norm as a device
    /// tensor (no sync), or null when clipping is off (the norm is then not computed).
    /// </summary>
    public Tensor? Step(double lr)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope(); // holds the step's views while libtorch updates through them (docs/backends.md, "Tensors have the same race")
        StepCount++;
        var g = Gather();
        if (grads32 is not null)
        {
            grads32.copy_(g);
            g = grads32;
        }

        Tensor? norm = null;
        if (settings.GradientClip > 0)
        {
            norm = g.norm();
            using var coef = Clip(norm);
            g.mul_(coef);
        }

        if (muonLength > 0)
        {
            MuonStep(g, lr);
        }

        // AdamW over the rest of the buffer (all of it without a Muon group): moments in whole-range kernels, then each
        // group's decay and update at its own rate.
        var a = muonLength;
        var n = Count - a;
        if (n > 0)
        {
            var (ga, ma, va, da) = (g.narrow(0, a, n), m.narrow(0, a, n), v.narrow(0, a, n), denom.narrow(0, a, n));
            ma.lerp_(ga, oneMinusBeta1);
            using var beta2 = settings.Beta2.ToScalar();
            using var oneMinusBeta2 = (1 - settings.Beta2).ToScalar();
            va.mul_(beta2).addcmul_(ga, ga, value: oneMinusBeta2);
            var bc1 = 1 - Math.Pow(settings.Beta1, StepCount);
            var bc2 = 1 - Math.Pow(settings.Beta2, StepCount);
            // m̂ / (√v̂ + ε) = (m / bc1) / (√v / √bc2 + ε) = (√bc2 / bc1) · m / (√v + ε·√bc2): two kernels for the denominator.
            using var epsilon = (settings.Epsilon * Math.Sqrt(bc2)).ToScalar();
            da.copy_(va).sqrt_().add_(epsilon, HeldScalars.One);
            foreach (var (offset, length, group) in ranges.Where(r => !r.Group.Muon))
            {
                var rate = lr * group.LearningRateScale;
                var w = master.narrow(0, offset, length);
                if (group.WeightDecay > 0)
                {
                    w.TimesInPlace(1 - (rate * group.WeightDecay));
                }

                using var value = (-rate * Math.Sqrt(bc2) / bc1).ToScalar();
                w.addcdiv_(m.narrow(0, offset, length), denom.narrow(0, offset, length), value: value);
            }
        }

        weights16?.copy_(master);
        return norm is null ? null : scope.MoveToOuter(norm);
    }

    /// <summary>
    /// Muon (Keller Jordan's reference <c>muon_update</c>) for every matrix of the first group: the momentum buffer
    /// <c>B ← lerp(B, G, 1 − μ)</c>; the update <c>U = lerp(G, B, μ)</c> (Nesterov) or <c>B</c>; U orthogonalised by
    /// <see cref="NewtonSchulz"/> on its (rows, columns) view and scaled by <c>√max(1, rows / columns)</c>; then
    /// <c>W ← W · (1 − lr·decay) − lr · U</c>. The orthogonalisation runs in the compute type (bf16 on CUDA with
    /// mixed precision, as the reference; fp32 otherwise).
    /// </summary>
    private void MuonStep(Tensor g, double lr) => MuonUpdates(g, (w, orthogonal, group, shapeScale) =>
    {
        var rate = lr * group.LearningRateScale;
        if (group.WeightDecay > 0)
        {
            w.TimesInPlace(1 - (rate * group.WeightDecay));
        }

        using var alpha = (-rate * shapeScale).ToScalar();
        w.add_(orthogonal, alpha: alpha);
    });

    /// <summary>
    /// <see cref="MuonStep(Tensor, double)"/> with the schedule's rate a device scalar (<paramref name="lr"/>): the same
    /// momentum and orthogonalisation, the decay and the update scaled on the device, so a CUDA graph captures it.
    /// </summary>
    private void MuonStep(Tensor g, Tensor lr) => MuonUpdates(g, (w, orthogonal, group, shapeScale) =>
    {
        using var rate = lr.Times(group.LearningRateScale);
        if (group.WeightDecay > 0)
        {
            using var decay = rate.Times(group.WeightDecay);
            using var keep = decay.neg().Plus(1L);
            w.mul_(keep);
        }

        using var scaled = rate.Times(shapeScale);
        using var step = orthogonal * scaled;
        w.sub_(step);
    });

    /// <summary>
    /// Muon's momentum and orthogonalised update for every matrix of the Muon group; <paramref name="apply"/> decays the
    /// matrix <c>w</c> (a view of the master weights) and subtracts the group's rate times <c>shapeScale</c> times the
    /// orthogonal update (fp32, flat).
    /// </summary>
    private void MuonUpdates(Tensor g, Action<Tensor, Tensor, ParameterGroup, double> apply)
    {
        var settings = muon!;
        foreach (var (offset, length, group) in ranges.Where(r => r.Group.Muon))
        {
            foreach (var (_, p, at, shape) in layout.Where(l => l.Offset >= offset && l.Offset < offset + length))
            {
                using var scope = NewDisposeScope();
                var count = shape.Aggregate(1L, (x, y) => x * y);
                var rows = shape[0];
                var columns = count / rows;
                var grad = g.narrow(0, at, count).view(rows, columns);
                var buffer = m.narrow(0, at, count).view(rows, columns);
                using var momentum = settings.Momentum.ToScalar();
                using var oneMinusMomentum = (1 - settings.Momentum).ToScalar();
                buffer.mul_(momentum).add_(grad, alpha: oneMinusMomentum); // lerp(B, G, 1 − μ)
                var update = settings.Nesterov ? grad.Plus((buffer - grad).mul(momentum)) : buffer; // lerp(G, B, μ)
                var orthogonal = NewtonSchulz(update, settings.NewtonSchulzSteps, ComputeType).to(ScalarType.Float32);
                apply(master.narrow(0, at, count), orthogonal.view(-1), group, Math.Sqrt(Math.Max(1.0, (double)rows / columns)));
            }
        }
    }

    /// <summary>
    /// The quintic Newton–Schulz iteration of Muon: X = G / (‖G‖_F + 1e-7) (transposed when it has more rows than
    /// columns), then <paramref name="steps"/> times A = X Xᵀ, X ← 3.4445·X + (−4.7750·A + 2.0315·A²) X; an approximately
    /// orthogonal matrix with G's singular vectors. 2·(2r²c + r³) FLOPs an iteration for r = min(rows, columns), c = max.
    /// </summary>
    public static Tensor NewtonSchulz(Tensor matrix, int steps, ScalarType type = ScalarType.Float32)
    {
        const double a = 3.4445, b = -4.7750, c = 2.0315;
        var tall = matrix.shape[0] > matrix.shape[1];
        var x = matrix.to(type);
        if (tall)
        {
            x = x.t();
        }

        x = x / x.norm().Plus(1e-7);
        for (var i = 0; i < steps; i++)
        {
            var gram = x.matmul(x.t());
            var poly = gram.Times(b).Plus(gram.matmul(gram).Times(c));
            x = x.Times(a).Plus(poly.matmul(x));
        }

        return tall ? x.t() : x;
    }

    /// <summary>
    /// The same step with everything on the device: AdamW through libtorch's fused kernel (libslmgen_native), one launch
    /// per group at the schedule's rate <paramref name="lr"/> (a float32 scalar tensor) times the group's scale, and a
    /// Muon group's matrices through <see cref="MuonStep(Tensor, Tensor)"/>; the step count is <paramref name="step"/> (a
    /// float32 scalar tensor, incremented here). Nothing waits for the host, so a CUDA graph can capture it; the caller
    /// advances <see cref="StepCount"/> (<see cref="CountStep"/>) once per step that really ran.
    /// </summary>
    /// <exception cref="InvalidOperationException">libslmgen_native is not available.</exception>
    public void StepOnDevice(Tensor lr, Tensor step)
    {
        // Refused before anything moves: Muon's update runs without the library, AdamW's fused kernel needs it.
        Native.CudaNative.Need();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using (var one = 1.ToScalar())
        {
            step.add_(one, HeldScalars.One);
        }
        var g = Gather();
        if (grads32 is not null)
        {
            grads32.copy_(g);
            g = grads32;
        }

        if (settings.GradientClip > 0)
        {
            var coef = Clip(g.norm());
            g.mul_(coef);
        }

        if (muonLength > 0)
        {
            MuonStep(g, lr);
        }

        // One fused launch per AdamW group range (e.g. decayed matrices, then vectors without decay), each at its rate.
        foreach (var (offset, length, group) in ranges.Where(r => !r.Group.Muon))
        {
            var rate = group.LearningRateScale == 1 ? lr : lr.Times(group.LearningRateScale);
            Native.CudaNative.FusedAdamW(
                new[] { master.narrow(0, offset, length) }, new[] { g.narrow(0, offset, length) }, new[] { m.narrow(0, offset, length) }, new[] { v.narrow(0, offset, length) },
                step, rate, settings.Beta1, settings.Beta2, group.WeightDecay, settings.Epsilon);
        }

        weights16?.copy_(master);
    }

    /// <summary>The clipping factor min(1, clip / (‖g‖ + 10⁻⁶)) for the gradient norm <paramref name="norm"/>, on its device.</summary>
    private Tensor Clip(Tensor norm)
    {
        using var max = 1.0.ToScalar();
        using var padded = norm.Plus(1e-6);
        return padded.InverseTimes(settings.GradientClip).clamp_(max: max);
    }

    /// <summary>Advances <see cref="StepCount"/> after a <see cref="StepOnDevice"/> that ran (eagerly or replayed).</summary>
    public void CountStep() => StepCount++;

    // The flat gradients: the view buffer, or autograd's per-parameter gradients concatenated in one kernel
    // (parameters that got no gradient contribute zeros).
    private Tensor Gather()
    {
        if (gradViews is not null)
        {
            return gradViews;
        }

        if (collected is not null)
        {
            return collected;
        }

        using var noGrad = no_grad();
        var pieces = new List<Tensor>(layout.Count);
        var handles = new List<Tensor>(layout.Count * 2);
        foreach (var (_, p, _, _) in layout)
        {
            // p.grad hands out a new wrapper on every call: keep it to dispose it.
            var g = p.grad ?? zeros(p.numel(), dtype: ComputeType, device: device);
            handles.Add(g);
            pieces.Add(g.view(-1));
        }

        collected = cat(pieces, 0).DetachFromDisposeScope();
        foreach (var t in pieces.Concat(handles))
        {
            t.Dispose();
        }

        return collected;
    }

    /// <summary>Restores the state saved from another instance with the same layout.</summary>
    public void Restore(Tensor savedMaster, Tensor savedM, Tensor savedV, long stepCount)
    {
        using var noGrad = no_grad();
        if (savedMaster.numel() != Count)
        {
            throw new InvalidOperationException($"The saved optimizer holds {savedMaster.numel()} elements; this model has {Count}.");
        }

        master.copy_(savedMaster);
        m.copy_(savedM);
        v.copy_(savedV);
        weights16?.copy_(master);
        StepCount = stepCount;
    }

    /// <summary>
    /// Exchanges the master weights with <paramref name="weights"/> (a flat fp32 buffer of the same layout, such as the
    /// weights' moving average) and refreshes the model: the model then runs with those weights; a second call swaps back.
    /// </summary>
    public void Swap(Tensor weights)
    {
        using var noGrad = no_grad();
        denom.copy_(master); // the denominator is scratch between steps
        master.copy_(weights);
        weights.copy_(denom);
        weights16?.copy_(master);
    }

    /// <summary>Copies the master weights into the model (after they were changed outside a step).</summary>
    public void SyncWeights()
    {
        using var noGrad = no_grad();
        weights16?.copy_(master);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        master.Dispose();
        weights16?.Dispose();
        gradViews?.Dispose();
        grads32?.Dispose();
        collected?.Dispose();
        m.Dispose();
        v.Dispose();
        denom.Dispose();
        oneMinusBeta1.Dispose();
    }
}

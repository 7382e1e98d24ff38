// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README): a device's measured profile
// and the time model that turns a step's kernels (StepOps) into seconds on it.
using System;
using System.Collections.Generic;
using System.Linq;

#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>A measured matmul: (M × K) by (K × N) at this rate.</summary>
/// <param name="M">Rows.</param>
/// <param name="N">Columns.</param>
/// <param name="K">Inner size.</param>
/// <param name="FlopsPerSecond">Achieved FLOP/s (2·M·N·K per product).</param>
public sealed record MatmulPoint(long M, long N, long K, double FlopsPerSecond);

/// <summary>Measured causal attention: (batch·heads) sequences of T queries over T keys with head size d.</summary>
/// <param name="BatchHeads">Batch × heads.</param>
/// <param name="T">Queries (= keys).</param>
/// <param name="HeadSize">Head size.</param>
/// <param name="ForwardFlopsPerSecond">Forward FLOP/s (4·BH·T²·d counted).</param>
/// <param name="BackwardFlopsPerSecond">Backward FLOP/s (2.5× the forward's FLOPs counted).</param>
public sealed record AttentionPoint(long BatchHeads, long T, long HeadSize, double ForwardFlopsPerSecond, double BackwardFlopsPerSecond);

/// <summary>
/// What <c>slmgen calibrate</c> measured on one device through SlmGen's runtime: matmul rates over shapes, attention
/// rates, the bandwidth of large elementwise kernels, and the cost of launching a kernel from the host.
/// </summary>
/// <param name="Device">The device in words (e.g. "NVIDIA H200", "cpu (2 threads)").</param>
/// <param name="Backend">cpu or cuda.</param>
/// <param name="ElementBytes">Bytes of an activation in the profiled precision (4 fp32, 2 bf16).</param>
/// <param name="BandwidthBytesPerSecond">Bytes read and written per second by memory-bound kernels: the figure at which the model predicts mid-sized reference models' measured steps — a CPU's eager step (time model v11), a CUDA step replayed from a graph (v12) — where <see cref="CopyBandwidthBytesPerSecond"/> keeps a large copy's; otherwise (older profiles, CUDA without graphs) the large copy's.</param>
/// <param name="LaunchSeconds">Host time per kernel of an eager training step (through autograd): measured inside SlmGen's layers by <c>slmgen calibrate</c> (older profiles: a one-element kernel's time).</param>
/// <param name="Synchronous">True when the host waits for each kernel (CPU): a kernel's time is its launch plus its work; false (CUDA): the larger of the two.</param>
/// <param name="Matmul">Measured matmuls.</param>
/// <param name="Attention">Measured attention.</param>
public sealed record DeviceProfile(string Device, string Backend, int ElementBytes, double BandwidthBytesPerSecond, double LaunchSeconds, bool Synchronous,
    IReadOnlyList<MatmulPoint> Matmul, IReadOnlyList<AttentionPoint> Attention)
{
    /// <summary>When and how it was measured (date, command, commit).</summary>
    public string Measured { get; init; } = string.Empty;

    /// <summary>
    /// A large elementwise kernel's bandwidth into a fresh tensor, where <see cref="BandwidthBytesPerSecond"/> was
    /// measured inside SlmGen's layers instead (a CPU since time model v11: the large copy measures the allocator's
    /// first touch of new pages, which a step's kernels mostly do not pay; CUDA with graphs since v12: SlmGen's fused
    /// kernels reach less than a large copy); 0 where it is the same figure.
    /// </summary>
    public double CopyBandwidthBytesPerSecond { get; init; }

    /// <summary>Host time per eager training step besides its kernels (the optimizer's host work, the backward's start), measured in SlmGen's layers.</summary>
    public double StepSeconds { get; init; }

    /// <summary>Time per training step replayed from a CUDA graph besides its kernels (the replay's launch); 0 when not measured.</summary>
    public double GraphStepSeconds { get; init; }

    /// <summary>Time per decoded token (and per prefill, without <see cref="PrefillLaunchSeconds"/>) besides its kernels: the id read back, the next uploaded; 0 when not measured.</summary>
    public double TokenSeconds { get; init; }

    /// <summary>
    /// Host time per kernel of a prefill (the prompt's forward with an empty cache, no autograd), measured in SlmGen's
    /// layers apart from a decoded token's; 0 when the profile predates it (then a prefill takes the token's figures).
    /// </summary>
    public double PrefillLaunchSeconds { get; init; }

    /// <summary>A prefill's fixed time besides its kernels (with <see cref="PrefillLaunchSeconds"/>; the cache set up, the first draw).</summary>
    public double PrefillSeconds { get; init; }

    /// <summary>
    /// Host time to launch one kernel without autograd (decoding runs under no_grad), measured on the same tiny
    /// kernels as <see cref="LaunchSeconds"/>; 0 when the profile predates it (then <see cref="LaunchSeconds"/> is used).
    /// </summary>
    public double NoGradLaunchSeconds { get; init; }

    /// <summary>
    /// The device's time per tiny kernel replayed back to back from a CUDA graph (no host launch): the least a
    /// graphed kernel takes; 0 when not measured (CPU, or no native library for graphs).
    /// </summary>
    public double GraphKernelSeconds { get; init; }

    /// <summary>
    /// Whether SlmGen's fused kernels ran when it was measured (CUDA, libslmgen_native built with nvcc, SLMGEN_FUSED not
    /// 0): the time model then lists the fused path's kernels (<see cref="StepOps"/>), and the calibration fitted its
    /// per-kernel costs to them. False for a CPU and for profiles that predate the kernels.
    /// </summary>
    public bool FusedKernels { get; init; }

    /// <summary>Matmul rates replayed from a CUDA graph: the device's own time, without the host's launch; empty when not measured.</summary>
    public IReadOnlyList<MatmulPoint> GraphMatmul { get; init; } = Array.Empty<MatmulPoint>();

    /// <summary>Attention rates replayed from a CUDA graph; empty when not measured.</summary>
    public IReadOnlyList<AttentionPoint> GraphAttention { get; init; } = Array.Empty<AttentionPoint>();

    /// <summary>
    /// Matmul rates with a size that is not a multiple of 16 bytes' worth of elements (an odd vocabulary such as
    /// GPT-2's 50,257): the fast tensor-core kernels need aligned rows, so such products run slower; empty when not
    /// measured (then the aligned rates are used).
    /// </summary>
    public IReadOnlyList<MatmulPoint> UnalignedMatmul { get; init; } = Array.Empty<MatmulPoint>();

    /// <summary>Unaligned matmul rates replayed from a CUDA graph; empty when not measured.</summary>
    public IReadOnlyList<MatmulPoint> GraphUnalignedMatmul { get; init; } = Array.Empty<MatmulPoint>();

    /// <summary>
    /// The input gradients (<see cref="MatmulLayout.InputGradient"/>) of layers with an unaligned output size, in the
    /// op's own sizes (rows, input features, the unaligned output features summed over); empty when not measured (then
    /// <see cref="UnalignedMatmul"/>'s).
    /// </summary>
    public IReadOnlyList<MatmulPoint> UnalignedInputGradient { get; init; } = Array.Empty<MatmulPoint>();

    /// <summary>The weight gradients (<see cref="MatmulLayout.WeightGradient"/>) of such layers (the unaligned output features, input features, rows summed over); empty when not measured.</summary>
    public IReadOnlyList<MatmulPoint> UnalignedWeightGradient { get; init; } = Array.Empty<MatmulPoint>();

    /// <summary><see cref="UnalignedInputGradient"/> replayed from a CUDA graph; empty when not measured.</summary>
    public IReadOnlyList<MatmulPoint> GraphUnalignedInputGradient { get; init; } = Array.Empty<MatmulPoint>();

    /// <summary><see cref="UnalignedWeightGradient"/> replayed from a CUDA graph; empty when not measured.</summary>
    public IReadOnlyList<MatmulPoint> GraphUnalignedWeightGradient { get; init; } = Array.Empty<MatmulPoint>();

    /// <summary>Elements in 16 bytes: a layer whose input and output widths are multiples of it runs its products at the aligned rates.</summary>
    public int Alignment => Math.Max(1, 16 / ElementBytes);

    /// <summary>The launch time of a kernel with or without autograd.</summary>
    public double Launch(bool autograd) => autograd || !(NoGradLaunchSeconds > 0) ? LaunchSeconds : NoGradLaunchSeconds;

    /// <summary>The launch time of a kernel of a decoding step: a prefill's where the profile measured it apart, else a token's.</summary>
    public double DecodeLaunch(bool prefill) => prefill && PrefillLaunchSeconds > 0 ? PrefillLaunchSeconds : Launch(autograd: false);

    /// <summary>A decoding step's fixed time besides its kernels: a prefill's where the profile measured it apart, else a token's.</summary>
    public double DecodeFixedSeconds(bool prefill) => prefill && PrefillLaunchSeconds > 0 ? PrefillSeconds : TokenSeconds;

    /// <summary>The matmul rate for a shape: the measured rates of the nearest shapes (in log-size) averaged in log-rate, weighted by closeness.</summary>
    public double MatmulRate(long m, long n, long k) => MatmulRate(m, n, k, graphed: false);

    /// <summary>The matmul rate for a shape, eager (with its launch) or replayed from a CUDA graph (where measured).</summary>
    public double MatmulRate(long m, long n, long k, bool graphed) => MatmulRate(m, n, k, graphed, aligned: true);

    /// <summary>The matmul rate for a shape whose feature sizes are or are not aligned (<see cref="Alignment"/>), eager or replayed from a CUDA graph.</summary>
    public double MatmulRate(long m, long n, long k, bool graphed, bool aligned) => MatmulRate(m, n, k, graphed, aligned, MatmulLayout.Forward);

    /// <summary>
    /// The matmul rate for a shape, aligned or not, of a layer's forward product or one of its gradients: an unaligned
    /// gradient at its own layout's rates where the profile measured them (<see cref="UnalignedMatmulRate"/>).
    /// </summary>
    public double MatmulRate(long m, long n, long k, bool graphed, bool aligned, MatmulLayout layout)
    {
        var points = graphed && GraphMatmul.Count > 0 ? GraphMatmul : Matmul;
        if (!aligned)
        {
            points = UnalignedMatmulRate(graphed, layout) is { Count: > 0 } unaligned ? unaligned : points;
        }

        return Interpolate(points, static (p, a) => a == 0 ? p.M : a == 1 ? p.N : p.K, static p => p.FlopsPerSecond, m, n, k);
    }

    /// <summary>
    /// The measured rates for an unaligned product of this layout, graphed where measured: a gradient's own table, else
    /// the forward product's (profiles before session 26 measured only that); empty when none.
    /// </summary>
    public IReadOnlyList<MatmulPoint> UnalignedMatmulRate(bool graphed, MatmulLayout layout)
    {
        static IReadOnlyList<MatmulPoint> Pick(bool graphed, IReadOnlyList<MatmulPoint> graph, IReadOnlyList<MatmulPoint> eager) => graphed && graph.Count > 0 ? graph : eager;
        var own = layout switch
        {
            MatmulLayout.InputGradient => Pick(graphed, GraphUnalignedInputGradient, UnalignedInputGradient),
            MatmulLayout.WeightGradient => Pick(graphed, GraphUnalignedWeightGradient, UnalignedWeightGradient),
            _ => Array.Empty<MatmulPoint>(),
        };
        return own.Count > 0 ? own : Pick(graphed, GraphUnalignedMatmul, UnalignedMatmul);
    }

    /// <summary>The attention rate for a shape (forward or backward).</summary>
    public double AttentionRate(long batchHeads, long t, long headSize, bool backward) => AttentionRate(batchHeads, t, headSize, backward, graphed: false);

    /// <summary>
    /// The attention rate for a shape (forward or backward), eager or replayed from a CUDA graph (where measured); below
    /// the smallest head size measured, that head size's time (fused attention pads a small head to its tile, so its
    /// time no longer falls with the head size).
    /// </summary>
    public double AttentionRate(long batchHeads, long t, long headSize, bool backward, bool graphed)
    {
        var points = graphed && GraphAttention.Count > 0 ? GraphAttention : Attention;
        var smallest = points.Count > 0 ? points.Min(p => p.HeadSize) : 0;
        var measured = Math.Max(headSize, smallest);
        var rate = backward
            ? Interpolate(points, static (p, a) => a == 0 ? p.BatchHeads : a == 1 ? p.T : p.HeadSize, static p => p.BackwardFlopsPerSecond, batchHeads, t, measured)
            : Interpolate(points, static (p, a) => a == 0 ? p.BatchHeads : a == 1 ? p.T : p.HeadSize, static p => p.ForwardFlopsPerSecond, batchHeads, t, measured);
        return rate * headSize / measured;
    }

    /// <summary>
    /// The rate at a shape from a grid of measured shapes (time model v9): multilinear interpolation of log-rate in the
    /// log of each size between the grid values that bracket it on every axis (a size beyond the grid takes the edge's
    /// rate); a corner the calibration skipped (too long a product) is left out and the others' weights renormalised;
    /// where no bracketing corner was measured, the nearest shapes' rates weighted by closeness. (v8 and earlier took
    /// the four nearest shapes by summed log-distance for every shape, which on a lattice picks arbitrarily among ties
    /// — a head size of 64 between measured lengths of 128 and 512 also averaged in head sizes of 32 or 128.)
    /// </summary>
    private static double Interpolate<T>(IReadOnlyList<T> points, Func<T, int, long> at, Func<T, double> rateOf, params long[] query)
    {
        // One pass per axis for the bracketing grid values, one per corner for its point: no allocation per point, as
        // a plan of thousands of distinct layers asks this for every kernel of every step it predicts.
        var axes = query.Length;
        var low = new long[axes];
        var high = new long[axes];
        var toward = new double[axes];
        var any = false;
        for (var a = 0; a < axes; a++)
        {
            long min = long.MaxValue, max = long.MinValue;
            foreach (var p in points)
            {
                if (rateOf(p) > 0)
                {
                    var v = at(p, a);
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                    any = true;
                }
            }

            if (!any)
            {
                return double.NaN;
            }

            var q = Math.Min(Math.Max(query[a], min), max);
            long below = min, above = max;
            foreach (var p in points)
            {
                if (rateOf(p) > 0)
                {
                    var v = at(p, a);
                    if (v <= q && v > below)
                    {
                        below = v;
                    }

                    if (v >= q && v < above)
                    {
                        above = v;
                    }
                }
            }

            low[a] = below;
            high[a] = above;
            toward[a] = below == above ? 0 : (Math.Log(q) - Math.Log(below)) / (Math.Log(above) - Math.Log(below));
        }

        double weights = 0, sum = 0, only = 0;
        var used = 0;
        var corner = new long[axes];
        for (var mask = 0; mask < 1 << axes; mask++)
        {
            var weight = 1.0;
            for (var a = 0; a < axes; a++)
            {
                var up = (mask >> a & 1) == 1;
                corner[a] = up ? high[a] : low[a];
                weight *= up ? toward[a] : 1 - toward[a];
            }

            if (!(weight > 0))
            {
                continue;
            }

            foreach (var p in points)
            {
                var rate = rateOf(p);
                var match = rate > 0;
                for (var a = 0; a < axes && match; a++)
                {
                    match = at(p, a) == corner[a];
                }

                if (match)
                {
                    weights += weight;
                    sum += weight * Math.Log(rate);
                    only = rate;
                    used++;
                    break;
                }
            }
        }

        return used == 1 ? only
            : weights > 1e-9
            ? Math.Exp(sum / weights)
            : Nearest(points.Select(p => (Enumerable.Range(0, axes).Sum(a => Distance(at(p, a), query[a])), rateOf(p))));
    }

    private static double Distance(long a, long b) => Math.Abs(Math.Log(Math.Max(1, a)) - Math.Log(Math.Max(1, b)));

    private static double Nearest(IEnumerable<(double Distance, double Rate)> points)
    {
        var nearest = points.Where(p => p.Rate > 0).OrderBy(p => p.Distance).Take(4).ToList();
        if (nearest.Count == 0)
        {
            return double.NaN;
        }

        if (nearest[0].Distance < 1e-9)
        {
            return nearest[0].Rate;
        }

        double weights = 0, sum = 0;
        foreach (var (distance, rate) in nearest)
        {
            var w = 1 / (distance * distance);
            weights += w;
            sum += w * Math.Log(rate);
        }

        return Math.Exp(sum / weights);
    }
}

/// <summary>What bounds a kernel's predicted time.</summary>
public enum TimeBound
{
    /// <summary>Its FLOPs at the device's rate for its shape.</summary>
    Compute = 0,
    /// <summary>Its bytes at the device's bandwidth.</summary>
    Memory = 1,
    /// <summary>Launching it from the host (eager execution).</summary>
    Launch = 2,
}

/// <summary>A component's predicted time and what bounds most of it.</summary>
/// <param name="Component">The component.</param>
/// <param name="Seconds">Its time in a step.</param>
/// <param name="Bound">The bound of the largest share of its time.</param>
/// <param name="Kernels">Kernels it launches in a step.</param>
public sealed record ComponentTime(string Component, double Seconds, TimeBound Bound, long Kernels);

/// <summary>A predicted step: total, by phase, by component.</summary>
/// <param name="Seconds">The step's time.</param>
/// <param name="ForwardSeconds">Forward kernels.</param>
/// <param name="BackwardSeconds">Backward kernels.</param>
/// <param name="OptimizerSeconds">Optimizer kernels.</param>
/// <param name="Kernels">Kernels launched.</param>
/// <param name="Components">By component, largest first.</param>
public sealed record PredictedTime(double Seconds, double ForwardSeconds, double BackwardSeconds, double OptimizerSeconds, long Kernels, IReadOnlyList<ComponentTime> Components)
{
    /// <summary>The component that takes the most time.</summary>
    public ComponentTime Dominant => Components[0];

    /// <summary>The step's kernel time by kind — matmuls, attention, memory-bound kernels — (the fixed time per step in none), to set beside a kernel trace's classes.</summary>
    public double MatmulSeconds { get; init; }

    /// <summary>Attention kernels' time in the step (<see cref="MatmulSeconds"/>).</summary>
    public double AttentionSeconds { get; init; }

    /// <summary>Memory-bound kernels' time in the step (<see cref="MatmulSeconds"/>).</summary>
    public double MemorySeconds { get; init; }
}

/// <summary>
/// The time model: each kernel takes the larger of its FLOPs at the profile's rate for its shape (a matmul whose layer
/// widths are not aligned at the rates measured for such products; attention below the smallest measured head size at
/// that head size's time) and its bytes at the profile's bandwidth — a memory-bound kernel its bytes plus the device's
/// least time per kernel (measured by replaying tiny kernels from a graph), a matmul or attention at least that least
/// time. In eager execution the host launches each kernel at the profile's launch time (through autograd for a training
/// step, without it for decoding). On a synchronous device (CPU) the host waits for each kernel: a memory-bound
/// kernel's launch adds to its work, a matmul or attention (whose measured rates include a launch) takes the larger of
/// the two. On CUDA the host runs ahead of the device: the kernels go through a queue — the host issues one every launch
/// time, the device starts it when the host has issued it and the device has finished the one before — so a long
/// kernel hides the launches of the short ones queued behind it (time model v5; v4 took the larger of launch and work
/// kernel by kernel, which charges a launch that a queued kernel has already hidden). A CUDA graph launches none, and
/// its kernels run at the rates measured by replaying graphs. A step is the time the device finishes its last kernel,
/// plus the profile's fixed time per step (graphed training, a synchronous device) or per token (decoding). Eager
/// training steps on CUDA follow one another unsynchronised, so the model takes the steady state of the queue (time
/// model v13): the fixed time is host time at each step's start, and a step is what one more adds to the device's clock.
/// </summary>
public static class TimeModel
{
    /// <summary>
    /// Predicts the kernels of a step on a device, eager or graphed: a training step, or (<paramref name="training"/>
    /// false) a decoding step — the prefill of a prompt (<paramref name="prefill"/>) or one decoded token.
    /// </summary>
    public static PredictedTime Predict(IReadOnlyList<StepOp> ops, DeviceProfile profile, bool graphed = false, bool training = true, bool prefill = false)
    {
        var components = new Dictionary<string, (double Seconds, double Compute, double Memory, double Launch, long Kernels)>(StringComparer.Ordinal);
        double forward = 0, backward = 0, optimizer = 0;
        var byKind = new double[3];
        long kernels = 0;
        var fixedSeconds = training ? (graphed ? profile.GraphStepSeconds : profile.StepSeconds) : profile.DecodeFixedSeconds(prefill);
        // Each kernel's rates are read from the profile once; the queue may pass over the step several times.
        var costs = new (double Compute, double Memory, double Work, double Launch)[ops.Count];
        for (var i = 0; i < ops.Count; i++)
        {
            costs[i] = Cost(ops[i], profile, graphed, training, prefill);
        }

        // The eager CUDA queue's clocks: when the host has issued, when the device has finished.
        double host = 0, device = 0;
        var overlapping = training && !graphed && !profile.Synchronous;
        double exposedFixed;
        if (overlapping)
        {
            // Training steps follow one another with no synchronisation between them, so the host issues the next
            // step's kernels — after its own fixed work (the optimizer's host side, the backward's start) — while the
            // device still runs this step's (time model v13; v12 and earlier started each step from idle clocks and
            // added the fixed time after the device's last kernel, which charges it in full where the device's work
            // would have hidden it). A few steps bring the clocks to their steady state; the step is what the next one
            // adds to the device's clock, and the fixed time's share of it is what it adds over the same step
            // without it.
            for (var warm = 0; warm < SteadySteps; warm++)
            {
                host += fixedSeconds;
                Pass(record: false);
            }

            var (hostAtStart, deviceAtStart) = (host, device);
            host += fixedSeconds;
            Pass(record: false);
            var withFixed = device - deviceAtStart;
            (host, device) = (hostAtStart, deviceAtStart);
            Pass(record: true);
            exposedFixed = Math.Max(0, withFixed - (device - deviceAtStart));
        }
        else
        {
            // A CUDA graph's replay, a synchronous device (CPU) and a decoding step (its token is read back before the
            // next is made) do not overlap the next step: the fixed time adds.
            Pass(record: true);
            exposedFixed = fixedSeconds;
        }

        var rows = components
            .Select(kv => new ComponentTime(kv.Key, kv.Value.Seconds, kv.Value.Compute >= kv.Value.Memory && kv.Value.Compute >= kv.Value.Launch ? TimeBound.Compute : kv.Value.Memory >= kv.Value.Launch ? TimeBound.Memory : TimeBound.Launch, kv.Value.Kernels))
            .OrderByDescending(c => c.Seconds)
            .ToList();
        return new PredictedTime(forward + backward + optimizer + exposedFixed, forward, backward, optimizer, kernels, rows)
        {
            MatmulSeconds = byKind[(int)OpKind.Matmul], AttentionSeconds = byKind[(int)OpKind.Attention], MemorySeconds = byKind[(int)OpKind.Memory],
        };

        // One step's kernels through the device (and, eager on CUDA, the queue); with record, each kernel's time is
        // summed by component, phase and kind.
        void Pass(bool record)
        {
            for (var i = 0; i < ops.Count; i++)
            {
                var op = ops[i];
                var (compute, memory, work, launch) = costs[i];
                double seconds;
                TimeBound bound;
                if (profile.Synchronous || graphed)
                {
                    // The host waits for each kernel (CPU: a memory-bound kernel's launch adds to its work; a matmul's or
                    // attention's measured rate already includes its launch, so the larger of the two), or a graph launches none.
                    seconds = (profile.Synchronous && op.Kind == OpKind.Memory ? work + launch : Math.Max(work, launch)) * op.Count;
                    bound = launch > work ? TimeBound.Launch : compute >= memory ? TimeBound.Compute : TimeBound.Memory;
                }
                else
                {
                    // The queue: n = Count × Launches kernels of work w each, issued one every launch time l from the host's
                    // clock; the device finishes the last at max(its own clock + n·w, host + l + w + (n − 1)·max(l, w)).
                    var n = (double)op.Count * Math.Max(1, op.Launches);
                    var l = launch / Math.Max(1, op.Launches);
                    var w = work / Math.Max(1, op.Launches);
                    var queued = device + (n * w);
                    var issued = host + l + w + ((n - 1) * Math.Max(l, w));
                    var end = Math.Max(queued, issued);
                    seconds = end - device;
                    device = end;
                    host += n * l;
                    bound = issued > queued && l > w ? TimeBound.Launch : compute >= memory ? TimeBound.Compute : TimeBound.Memory;
                }

                if (!record)
                {
                    continue;
                }

                components.TryGetValue(op.Component, out var c);
                components[op.Component] = (c.Seconds + seconds, c.Compute + (bound == TimeBound.Compute ? seconds : 0), c.Memory + (bound == TimeBound.Memory ? seconds : 0),
                    c.Launch + (bound == TimeBound.Launch ? seconds : 0), c.Kernels + ((long)op.Launches * op.Count));
                kernels += (long)op.Launches * op.Count;
                byKind[(int)op.Kind] += seconds;
                switch (op.Phase)
                {
                    case OpPhase.Forward: forward += seconds; break;
                    case OpPhase.Backward: backward += seconds; break;
                    default: optimizer += seconds; break;
                }
            }
        }
    }

    /// <summary>
    /// A kernel's (an entry's, per count) compute and memory time, its work on the device — a memory-bound kernel its
    /// fixed time (the least a kernel takes, measured by replaying tiny kernels from a graph) plus its bytes at the
    /// bandwidth; a matmul's or attention's measured rate includes its own fixed time, so the larger of the two — and
    /// its host launch (none in a graph).
    /// </summary>
    private static (double Compute, double Memory, double Work, double Launch) Cost(StepOp op, DeviceProfile profile, bool graphed, bool training, bool prefill)
    {
        var compute = op.Kind switch
        {
            OpKind.Matmul => op.Flops / profile.MatmulRate(op.M, op.N, op.K, graphed, aligned: op.FeatureDivisor % profile.Alignment == 0, op.Layout),
            OpKind.Attention => op.Flops / profile.AttentionRate(op.M, op.N, op.K, op.Phase == OpPhase.Backward, graphed),
            _ => 0,
        };
        var memory = op.Bytes / profile.BandwidthBytesPerSecond;
        var floor = op.Launches * profile.GraphKernelSeconds;
        var work = op.Kind == OpKind.Memory ? floor + memory : Math.Max(Math.Max(compute, memory), floor);
        var launch = graphed ? 0 : op.Launches * (training ? profile.Launch(autograd: true) : profile.DecodeLaunch(prefill));
        return (compute, memory, work, launch);
    }

    /// <summary>Eager CUDA training steps simulated before the one predicted, to bring the host's and the device's clocks to their steady state.</summary>
    private const int SteadySteps = 3;
}

using TorchSharp;
using System;
using System.IO;
using SlmGen.Native;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>
/// The trainer's step as one CUDA graph: the batch is copied into static buffers, the learning rate into a device
/// scalar, and the captured forward, loss, backward, gradient clipping and optimizer (fused AdamW at each group's rate and
/// Muon's orthogonalised update, with the step count on the device) replay with one launch. The first warm-up steps run eagerly on the capture stream through the same
/// graph-safe code; evaluation and checkpoints stay outside the graph. When the capture fails, the trainer goes on
/// eagerly and the log says why.
/// </summary>
internal sealed class GraphedStep : IDisposable
{
    private readonly Trainer trainer;
    private readonly Tensor lossSum;
    private readonly TextWriter log;
    private CudaGraph? graph;
    private Tensor? inputs;
    private Tensor? targets;
    private readonly Tensor lr;
    private readonly Tensor step;
    private int warm;

    private GraphedStep(Trainer trainer, CudaGraph graph, Tensor lossSum, TextWriter log)
    {
        this.trainer = trainer;
        this.graph = graph;
        this.lossSum = lossSum;
        this.log = log;
        lr = zeros(Array.Empty<long>(), dtype: ScalarType.Float32, device: trainer.Device).DetachFromDisposeScope();
        using var count = ((float)trainer.Optimizer.StepCount).ToScalar();
        step = full(Array.Empty<long>(), count, dtype: ScalarType.Float32, device: trainer.Device);
    }

    /// <summary>The graphed step, or null (with a line in the log saying why training stays eager).</summary>
    public static GraphedStep? TryCreate(Trainer trainer, Tensor lossSum, TextWriter log)
    {
        var graph = CudaGraph.TryCreate(trainer.Device, out var reason);
        if (graph is null)
        {
            log.WriteLine($"CUDA graphs: off ({reason}); training eagerly.");
            return null;
        }

        log.WriteLine($"CUDA graphs: on (capture after {trainer.Options.CudaGraphWarmup} eager warm-up steps).");
        return new GraphedStep(trainer, graph, lossSum, log);
    }

    /// <summary>Runs one step on this batch; false when graphs are off (after a failed capture): the caller steps eagerly.</summary>
    public bool Run(Tensor batchInputs, Tensor batchTargets, double learningRate)
    {
        if (graph is null)
        {
            return false;
        }

        if (inputs is null || targets is null || !inputs.shape.AsSpan().SequenceEqual(batchInputs.shape) || !targets.shape.AsSpan().SequenceEqual(batchTargets.shape))
        {
            if (graph.Captured)
            {
                Off("the batch shape changed after the capture");
                return false;
            }

            inputs?.Dispose();
            targets?.Dispose();
            inputs = batchInputs.clone().DetachFromDisposeScope();
            targets = batchTargets.clone().DetachFromDisposeScope();
        }
        else
        {
            inputs.copy_(batchInputs);
            targets.copy_(batchTargets);
        }

        using (var rate = learningRate.ToScalar())
        {
            lr.fill_(rate);
        }
        if (warm < trainer.Options.CudaGraphWarmup)
        {
            graph.Warmup(Work);
            warm++;
        }
        else
        {
            if (!graph.Captured)
            {
                try
                {
                    graph.Capture(Work);
                }
                catch (Exception e) when (e is InvalidOperationException or System.Runtime.InteropServices.ExternalException)
                {
                    Off("the capture failed: " + e.Message);
                    return false;
                }
            }

            graph.Replay();
        }

        trainer.Optimizer.CountStep();
        return true;
    }

    /// <summary>
    /// The step's path changed (quantisation-aware training starts or stops): a captured graph replays the old path,
    /// so it is dropped and the step warms up and is captured again on the new one. Nothing to do before the first
    /// capture (the capture takes the path of its step); with graphs off, nothing either.
    /// </summary>
    public void Recapture(string reason)
    {
        if (graph is null || !graph.Captured)
        {
            return;
        }

        graph.Dispose();
        graph = CudaGraph.TryCreate(trainer.Device, out var why);
        warm = 0;
        log.WriteLine(graph is null
            ? $"CUDA graphs: off ({reason}; a new graph could not be made: {why}); training on eagerly."
            : $"CUDA graphs: {reason}: the step is captured again after {trainer.Options.CudaGraphWarmup} eager warm-up steps.");
    }

    private void Work()
    {
        using var scope = NewDisposeScope();
        var loss = trainer.LossAndBackward(inputs!, targets!);
        lossSum.PlusInPlace(loss);
        trainer.Optimizer.StepOnDevice(lr, step);
        trainer.Optimizer.ZeroGrad();
    }

    private void Off(string reason)
    {
        log.WriteLine($"CUDA graphs: off ({reason}); training on eagerly.");
        graph?.Dispose();
        graph = null;
        trainer.Optimizer.ZeroGrad();
    }

    public void Dispose()
    {
        graph?.Dispose();
        inputs?.Dispose();
        targets?.Dispose();
        lr.Dispose();
        step.Dispose();
    }
}

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using SlmGen.Generation;
using SlmGen.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// The runtime's entry points hold the tensors they make while libtorch reads them, even when the caller has no dispose
/// scope: each one runs here on a thread with none while another thread collects and finalises without pause.
/// </summary>
/// <remarks>
/// TorchSharp frees a tensor's native object in its finaliser. A temporary such as the view in
/// <c>buffer.narrow(0, i, n).copy_(x)</c> has no owner once its handle is read, so a collection started by another
/// thread while libtorch is inside the call can free the view under it: a segmentation fault in
/// <c>torch::autograd::impl::bump_version</c> (how the Runtime tests' host crashed on 2026-12-07), or a wrong number read
/// in silence. Inside a dispose scope the scope holds it. Before the runtime opened scopes in these entry points, the
/// cache's append alone crashed this test within a few thousand calls (checked by reverting them); outside this test the
/// same race needs a collection at the wrong microsecond and struck about once in a few hundred test runs.
/// </remarks>
public class TensorLifetimeStressTests
{
    /// <summary>Runs <paramref name="work"/> on a fresh thread (no dispose scope) while a second thread collects and finalises in a loop.</summary>
    private static void UnderCollections(Action work)
    {
        var stop = 0;
        var collections = 0;
        Exception? failure = null;
        var hammer = new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                collections++;
            }
        })
        { IsBackground = true, Name = "collect-and-finalise" };
        var worker = new Thread(() =>
        {
            try
            {
                work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        { Name = "no-dispose-scope" };
        hammer.Start();
        worker.Start();
        worker.Join();
        Volatile.Write(ref stop, 1);
        hammer.Join();
        Assert.Null(failure);
        Assert.True(collections > 100, $"only {collections} collections ran beside the work");
    }

    [Fact]
    public void The_kv_cache_appends_without_a_callers_scope()
    {
        UnderCollections(() =>
        {
            // Position t holds keys t and values −t; the rounds are what took the unheld cache down (≈ 10⁵ appends).
            var keys = new List<Tensor>();
            var values = new List<Tensor>();
            for (var t = 0; t < 64; t++)
            {
                using var plus = ((double)t).ToScalar();
                using var minus = ((double)-t).ToScalar();
                keys.Add(full(new long[] { 1, 2, 1, 4 }, plus));
                values.Add(full(new long[] { 1, 2, 1, 4 }, minus));
            }

            var started = DateTime.UtcNow;
            for (var round = 0; round < 3000 && (round < 200 || DateTime.UtcNow - started < TimeSpan.FromSeconds(10)); round++)
            {
                using var cache = new KvCache(64);
                for (var t = 0; t < 64; t++)
                {
                    using (cache.Activate(1))
                    {
                        var (k, v) = cache.Append(keys[t], values[t]);
                        using (k)
                        using (v)
                        {
                            // Every position holds what was appended there: nothing freed, nothing read from freed memory.
                            if (t == 63 && round % 100 == 0)
                            {
                                using var checking = NewDisposeScope(); // the test's own temporaries are held
                                var expected = arange(64, dtype: ScalarType.Float32);
                                Assert.True(k.select(0, 0).select(0, 1).select(1, 3).eq(expected).all().item<bool>(), "the cache holds other keys than were appended");
                                Assert.True(v.select(0, 0).select(0, 0).select(1, 0).neg().eq(expected).all().item<bool>(), "the cache holds other values than were appended");
                            }
                        }
                    }
                }
            }

            foreach (var t in keys.Concat(values))
            {
                t.Dispose();
            }
        });
    }

    [Fact]
    public void The_optimizer_and_checkpoint_flattening_run_without_a_callers_scope()
    {
        UnderCollections(() =>
        {
            // Many small parameters: one view and one copy each, in the optimizer's set-up and in the checkpoint's flattening.
            var started = DateTime.UtcNow;
            for (var round = 0; round < 200 && (round < 3 || DateTime.UtcNow - started < TimeSpan.FromSeconds(10)); round++)
            {
                using var model = new ManyParameters(1000);
                Dictionary<string, Tensor> expected;
                using (var copying = NewDisposeScope())
                {
                    expected = model.named_parameters().ToDictionary(p => p.name, p => copying.Detach(p.parameter.detach().clone()));
                }

                using var optimizer = new FlatAdamW(model, new AdamWSettings());
                // The flat buffer holds every parameter at its offset.
                var layout = optimizer.Layout;
                using var flat = Checkpoint.Flatten(expected, layout, "(in memory)");
                using (NewDisposeScope())
                {
                    Assert.True(flat.eq(optimizer.Master).all().item<bool>(), "the flattened weights differ from the optimizer's master copy");
                }

                for (var step = 0; step < 3; step++)
                {
                    using var loss = model.Loss();
                    loss.backward();
                    using var norm = optimizer.Step(1e-2);
                    optimizer.ZeroGrad();
                }

                // Every parameter moved, as a step over its own gradient moves it; none is left reading freed memory.
                using (NewDisposeScope())
                {
                    foreach (var (name, p) in model.named_parameters())
                    {
                        Assert.False(p.detach().eq(expected[name]).all().item<bool>(), name + " did not move");
                    }
                }

                foreach (var t in expected.Values)
                {
                    t.Dispose();
                }
            }
        });
    }

    /// <summary>A module of <c>count</c> small parameters whose loss depends on each.</summary>
    private sealed class ManyParameters : nn.Module
    {
        private readonly List<TorchSharp.Modules.Parameter> weights = new();

        public ManyParameters(int count) : base(nameof(ManyParameters))
        {
            for (var i = 0; i < count; i++)
            {
                var p = new TorchSharp.Modules.Parameter(randn(3, 2).DetachFromDisposeScope());
                weights.Add(p);
                register_parameter($"w{i}", p);
            }
        }

        public Tensor Loss()
        {
            using var scope = NewDisposeScope();
            var total = zeros(1);
            foreach (var w in weights)
            {
                total = total.Plus(w.mul(w).sum());
            }

            return scope.MoveToOuter(total);
        }
    }
}

using System;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Native;

/// <summary>
/// A CUDA graph of work that TorchSharp runs on this thread: warm-up runs and the capture happen on a side stream
/// (libtorch's CUDAGraph needs one, with its private memory pool); <see cref="Replay"/> then launches the whole
/// captured work at once. What the work reads and writes must stay at fixed addresses (static input buffers, values
/// such as the learning rate in device tensors), and it must not synchronise with the host.
/// </summary>
public sealed class CudaGraph : IDisposable
{
    private IntPtr handle;

    private CudaGraph(IntPtr handle) => this.handle = handle;

    /// <summary>Whether <see cref="Capture"/> has run.</summary>
    public bool Captured { get; private set; }

    /// <summary>A graph for <paramref name="device"/>, or null with the reason (not CUDA, or no native library).</summary>
    public static CudaGraph? TryCreate(Device device, out string reason)
    {
        if (device.type != DeviceType.CUDA)
        {
            reason = "the device is not CUDA";
            return null;
        }

        if (!CudaNative.Available)
        {
            reason = CudaNative.Reason;
            return null;
        }

        reason = string.Empty;
        return new CudaGraph(CudaNative.GraphCreate(device.index < 0 ? 0 : device.index));
    }

    /// <summary>Runs <paramref name="work"/> eagerly on the side stream (libtorch's warm-up before a capture).</summary>
    public void Warmup(Action work) => OnSideStream(work);

    /// <summary>Captures <paramref name="work"/> (its kernels are recorded, not run).</summary>
    public void Capture(Action work)
    {
        if (Captured)
        {
            throw new InvalidOperationException("This graph is already captured.");
        }

        OnSideStream(() =>
        {
            CudaNative.GraphBegin(handle);
            try
            {
                work();
            }
            catch
            {
                // End the broken capture so that the stream is usable again; the work's own error is the one to report.
                try
                {
                    CudaNative.GraphEnd(handle);
                }
                catch (InvalidOperationException)
                {
                }

                throw;
            }

            CudaNative.GraphEnd(handle);
        });
        Captured = true;
    }

    /// <summary>Launches the captured work on the current stream.</summary>
    public void Replay() => CudaNative.GraphReplay(handle);

    private void OnSideStream(Action work)
    {
        ObjectDisposedException.ThrowIf(handle == IntPtr.Zero, this);
        CudaNative.GraphEnter(handle);
        try
        {
            work();
        }
        finally
        {
            CudaNative.GraphExit(handle);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (handle != IntPtr.Zero)
        {
            _ = CudaNative.GraphDestroy(handle); // also returns its memory pool to the device
            handle = IntPtr.Zero;
        }
    }
}

using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace SlmGen.Training;

/// <summary>
/// Turns the polite stops — SIGTERM (<c>docker stop</c>, systemd, <c>timeout</c>, a scheduler's time limit, a
/// preempted cloud GPU), SIGINT (Ctrl+C) and SIGHUP (a closed terminal or SSH session) — into one cancellation: the
/// training loop finishes the step it is in, writes <c>last.ckpt</c> atomically and returns, and the program exits
/// with <see cref="InterruptedExitCode"/>. Further signals while that happens are ignored (and said to be); a run that
/// must die at once can still be killed with SIGKILL, which loses only the steps since the last checkpoint because
/// every checkpoint is written atomically.
/// </summary>
/// <remarks>Listen only once there is something to save: before that the default (the process ends) loses nothing.</remarks>
public sealed class StopSignals : IDisposable
{
    /// <summary>
    /// The exit status of a run stopped by a signal after saving the step it reached: 75 (BSD's EX_TEMPFAIL, "try
    /// again later"), so a scheduler or script can tell an interrupted, resumable run (run it again with
    /// <c>--resume</c>) from a finished one (0), a mistake (1, 2) or a crash.
    /// </summary>
    public const int InterruptedExitCode = 75;

    private readonly CancellationTokenSource cancel = new();
    private readonly List<PosixSignalRegistration> registrations = new();
    private readonly TextWriter log;
    private readonly string saying;
    private int received;
    private bool holdUntilExit;

    private StopSignals(TextWriter log, string saying)
    {
        this.log = log;
        this.saying = saying;
    }

    /// <summary>Cancelled at the first stop signal.</summary>
    public CancellationToken Token => cancel.Token;

    /// <summary>The first stop signal received (null while none has come).</summary>
    public PosixSignal? Signal { get; private set; }

    /// <summary>Whether a stop signal has come.</summary>
    public bool Stopped => Signal is not null;

    /// <summary>
    /// Starts listening for SIGTERM, SIGINT and SIGHUP (SIGINT only where the others do not exist). The first one
    /// cancels <see cref="Token"/> and writes one line, "<paramref name="saying"/>", to <paramref name="log"/>.
    /// </summary>
    public static StopSignals Listen(TextWriter? log = null, string saying = "finishing this step and saving last.ckpt")
    {
        var stop = new StopSignals(log ?? Console.Error, saying);
        var signals = OperatingSystem.IsWindows() ? new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM } : new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGHUP };
        foreach (var signal in signals)
        {
            stop.registrations.Add(PosixSignalRegistration.Create(signal, stop.OnSignal));
        }

        return stop;
    }

    /// <summary>A token cancelled by a stop signal or by <paramref name="other"/> (a time limit, a caller's token).</summary>
    public CancellationTokenSource LinkedWith(CancellationToken other) => CancellationTokenSource.CreateLinkedTokenSource(cancel.Token, other);

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // never the default termination: the loop saves and returns
        var name = Name(context.Signal);
        if (Interlocked.Increment(ref received) == 1)
        {
            Signal = context.Signal;
            Write($"{name} received: {saying}; then exiting with status {InterruptedExitCode} (resumable with --resume).");
            cancel.Cancel();
        }
        else
        {
            Write($"{name} received again: ignored while the run stops and saves (kill -9 ends it at once; the last checkpoint written stays whole).");
        }
    }

    private void Write(string line)
    {
        try
        {
            lock (log)
            {
                log.WriteLine();
                log.WriteLine(line);
                log.Flush();
            }
        }
        catch (IOException)
        {
            // A closed terminal (SIGHUP) may have taken the output with it; stopping still goes on.
        }
    }

    /// <summary>SIGTERM, SIGINT, SIGHUP.</summary>
    public static string Name(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGTERM => "SIGTERM",
        PosixSignal.SIGINT => "SIGINT",
        PosixSignal.SIGHUP => "SIGHUP",
        PosixSignal.SIGQUIT => "SIGQUIT",
        _ => signal.ToString(),
    };

    /// <summary>
    /// Keeps the handlers installed after <see cref="Dispose"/>, for a process that exits when the run returns (the
    /// CLI): a second signal sent just after the first may reach the runtime's dispatch only after the run has saved
    /// and returned, and with the handlers gone it would take the signal's default action — killing the process with
    /// 128 + its number instead of the run's own exit status, after everything was saved.
    /// </summary>
    public StopSignals HoldUntilExit()
    {
        holdUntilExit = true;
        return this;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!holdUntilExit)
        {
            foreach (var r in registrations)
            {
                r.Dispose();
            }

            cancel.Dispose();
        }
    }
}

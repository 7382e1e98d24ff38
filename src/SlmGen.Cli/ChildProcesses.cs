using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace SlmGen.Cli;

/// <summary>
/// The child processes a command runs (a sweep's training runs), so that a stop signal reaches them: the sweep
/// forwards SIGTERM to each, and each finishes its step, saves and exits; the sweep waits for them.
/// </summary>
public static class ChildProcesses
{
    private static readonly HashSet<Process> Running = new();

    /// <summary>Tracks <paramref name="process"/> until the result is disposed.</summary>
    public static IDisposable Track(Process process)
    {
        lock (Running)
        {
            Running.Add(process);
        }

        return new Untrack(process);
    }

    /// <summary>Sends <paramref name="signal"/> (e.g. 15, SIGTERM) to every running child.</summary>
    public static void Signal(int signal)
    {
        lock (Running)
        {
            foreach (var p in Running)
            {
                try
                {
                    if (!p.HasExited)
                    {
                        if (OperatingSystem.IsWindows())
                        {
                            p.Kill(); // no signals there: the child's last checkpoint is what remains
                        }
                        else
                        {
                            _ = kill(p.Id, signal);
                        }
                    }
                }
                catch (InvalidOperationException)
                {
                    // It ended meanwhile.
                }
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    private sealed class Untrack(Process process) : IDisposable
    {
        public void Dispose()
        {
            lock (Running)
            {
                Running.Remove(process);
            }
        }
    }
}

using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace StitchMtls.TestGateway.Serve;

/// <summary>
/// Completes when the gateway should stop: its standard input reaches end of file (the parent closed it or
/// died), or it receives SIGTERM, SIGINT (Ctrl+C) or SIGQUIT.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly TaskCompletionSource _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignal()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal),
        ];
        _ = Task.Run(WaitForEndOfInputAsync);
    }

    public Task Requested => _requested.Task;

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _requested.TrySetResult();
    }

    private async Task WaitForEndOfInputAsync()
    {
        try
        {
            using Stream input = Console.OpenStandardInput();
            byte[] buffer = new byte[256];
            while (await input.ReadAsync(buffer, CancellationToken.None) > 0)
            {
                // What the parent writes means nothing; only the end of input does.
            }
        }
        finally
        {
            _requested.TrySetResult();
        }
    }
}

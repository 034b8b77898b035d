using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace StitchMtls.TestGateway.Serve;

/// <summary>Gives each connection Kestrel accepts a number from <see cref="ConnectionLog"/>, before TLS.</summary>
internal static class ConnectionNumber
{
    private static readonly object s_itemKey = typeof(ConnectionNumber);

    /// <summary>Adds the numbering to <paramref name="listen"/>; call it before applying TLS.</summary>
    public static void Assign(ListenOptions listen, ConnectionLog log)
    {
        listen.Use(next => connection =>
        {
            connection.Items[s_itemKey] = log.Accepted();
            return next(connection);
        });
    }

    /// <summary>The number <see cref="Assign"/> gave <paramref name="connection"/>; 0 if it gave none.</summary>
    public static int Of(ConnectionContext connection) =>
        connection.Items.TryGetValue(s_itemKey, out object? number) && number is int value ? value : 0;
}

